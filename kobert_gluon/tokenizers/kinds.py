"""The tokenizer-kind registry itself, with no kind in it and no MXNet: what a model family registers its own kinds
into (:mod:`kobert_gluon.models.family_registry`). Look kinds up through :mod:`.registry`, which registers the
built-in ones.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

from ..core.errors import InputError
from ..core.registry import Registry

__all__ = ['TokenizerKind', 'register_tokenizer_kind', 'get_tokenizer_kind', 'tokenizer_kinds',
           'registered_kinds', 'kind_reading_file', 'tokenizer_file_suffixes', 'vocabulary_kinds',
           'read_transformers_tokenizer', 'transformers_writer']


@dataclass(frozen=True)
class TokenizerKind:
    """``files``: what the kind keeps in a folder; ``load_folder(folder) -> tokenizer`` reads them back;
    ``from_pretrained(name, cachedir=None) -> tokenizer`` fetches a catalogue entry's tokenizer files."""
    name: str
    files: Tuple[str, ...]
    load_folder: Callable
    from_pretrained: Callable
    description: str = ''
    # A bare tokenizer file of this kind (``load_tokenizer(FILE)``): ``reads_file(path) -> bool`` says from its
    # content whether it is one (asked first, before any suffix), ``file_suffixes`` claims files by their suffix;
    # ``from_file(path)`` reads either
    reads_file: Optional[Callable[[Any], bool]] = None
    from_file: Optional[Callable[[Any], Any]] = None
    file_suffixes: Tuple[str, ...] = ()
    # Building a vocabulary folder of this kind from a corpus: ``build_vocab(corpus, size, out, **options) ->
    # VocabFolder``; ``vocab_options``: the options only this kind's builder takes (the CLI refuses the others)
    build_vocab: Optional[Callable] = None
    vocab_options: Tuple[str, ...] = ()
    # transformers' tokenizer files: ``read_transformers(folder) -> tokenizer or None`` (None: the folder holds no
    # tokenizer of this kind; asked in registration order by import-hf), ``write_transformers(tokenizer, folder,
    # max_seq_length)`` (export-hf; a kind without it cannot be exported)
    read_transformers: Optional[Callable[[Any], Any]] = None
    write_transformers: Optional[Callable[[Any, Any, int], None]] = None


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


def kind_reading_file(path) -> TokenizerKind:
    """The kind that reads the bare tokenizer file ``path``: the first whose ``reads_file`` recognises its content,
    else the first that claims its suffix; one InputError naming the suffixes known when none does."""
    path = Path(path)
    kinds = registered_kinds()
    found = next((kind for kind in kinds if kind.reads_file is not None and kind.reads_file(path)), None)
    found = found or next((kind for kind in kinds if path.suffix in kind.file_suffixes), None)
    if found is None:
        raise InputError('{}: a tokenizer file is one of {}; for a model or vocabulary, give its folder'.format(
            path, ', '.join('{} ({})'.format('/'.join(kind.file_suffixes), kind.name)
                            for kind in kinds if kind.file_suffixes)))
    return found


def tokenizer_file_suffixes() -> Tuple[str, ...]:
    """Every suffix a registered kind reads a bare tokenizer file by."""
    return tuple(suffix for kind in registered_kinds() for suffix in kind.file_suffixes)


def vocabulary_kinds() -> List[str]:
    """The kinds a vocabulary can be built for (``build-vocab --kind``), in registration order."""
    return [kind.name for kind in registered_kinds() if kind.build_vocab is not None]


def read_transformers_tokenizer(folder):
    """The tokenizer in the transformers folder ``folder``: the first kind that finds its files there (None: no
    kind does)."""
    for kind in registered_kinds():
        found = kind.read_transformers(Path(folder)) if kind.read_transformers is not None else None
        if found is not None:
            return found
    return None


def transformers_writer(name: str) -> Callable[[Any, Any, int], None]:
    """How the kind ``name`` writes transformers' tokenizer files; one InputError naming the kinds that can where it
    cannot."""
    kind = get_tokenizer_kind(name)
    if kind.write_transformers is None:
        able = [other.name for other in registered_kinds() if other.write_transformers is not None]
        raise InputError('a {} tokenizer has no transformers files ({}); export-hf writes the tokenizers of kinds {}'
                         .format(name, kind.description or name, ', '.join(able)))
    return kind.write_transformers
