"""The tokenizer-kind registry itself, with no kind in it and no MXNet: what a model family registers its own kinds
into (:mod:`kobert_gluon.models.family`). Look kinds up through :mod:`.registry`, which registers the built-in ones.
"""
from dataclasses import dataclass
from typing import Callable, Tuple

from ..core.registry import Registry

__all__ = ['TokenizerKind', 'register_tokenizer_kind', 'get_tokenizer_kind', 'tokenizer_kinds']


@dataclass(frozen=True)
class TokenizerKind:
    """``files``: what the kind keeps in a folder; ``load_folder(folder) -> tokenizer`` reads them back;
    ``from_pretrained(name, cachedir=None) -> tokenizer`` fetches a catalogue entry's tokenizer files."""
    name: str
    files: Tuple[str, ...]
    load_folder: Callable
    from_pretrained: Callable
    description: str = ''


_KINDS: Registry[TokenizerKind] = Registry('tokenizer kind',
                                           'a model folder written by a newer release may need an upgrade')


def register_tokenizer_kind(kind: TokenizerKind) -> TokenizerKind:
    return _KINDS.register(kind.name, kind)


def get_tokenizer_kind(name: str) -> TokenizerKind:
    return _KINDS.get(name)


def tokenizer_kinds():
    return sorted(_KINDS.names())
