"""The tokenizer-kind registry itself, with no kind in it and no MXNet: what a model family registers its own kinds
into (:mod:`kobert_gluon.models.family`). Look kinds up through :mod:`.registry`, which registers the built-in ones.
"""
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

from ..core.registry import Registry

__all__ = ['TokenizerKind', 'register_tokenizer_kind', 'get_tokenizer_kind', 'tokenizer_kinds',
           'registered_kinds']


@dataclass(frozen=True)
class TokenizerKind:
    """``files``: what the kind keeps in a folder; ``load_folder(folder) -> tokenizer`` reads them back;
    ``from_pretrained(name, cachedir=None) -> tokenizer`` fetches a catalogue entry's tokenizer files."""
    name: str
    files: Tuple[str, ...]
    load_folder: Callable
    from_pretrained: Callable
    description: str = ''
    # A bare tokenizer file of this kind (``load_tokenizer(FILE)``): ``reads_file(path) -> bool`` says whether it is
    # one (asked before the built-in rules for vocab.txt, WordPiece tokenizer.json and .model), ``from_file`` reads it
    reads_file: Optional[Callable[[Any], bool]] = None
    from_file: Optional[Callable[[Any], Any]] = None


_KINDS: Registry[TokenizerKind] = Registry('tokenizer kind',
                                           'a model folder written by a newer release may need an upgrade')


def register_tokenizer_kind(kind: TokenizerKind) -> TokenizerKind:
    return _KINDS.register(kind.name, kind)


def get_tokenizer_kind(name: str) -> TokenizerKind:
    return _KINDS.get(name)


def tokenizer_kinds():
    return sorted(_KINDS.names())


def registered_kinds() -> List[TokenizerKind]:
    """Every registered kind, in registration order."""
    return _KINDS.values()
