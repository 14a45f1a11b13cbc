"""What every tokenizer kind offers on top of ``tokenizer(text) -> pieces``: ``tokenize``, ``transform`` (a
gluonnlp ``BERTSentenceTransform``), ``encode`` (one text or pair as the arrays BERT takes), and ``starts_word``
(whether a piece begins a whitespace-separated word: whole-word masking groups the pieces by it) and
``piece_offsets`` (each piece with its character span in the text). A kind sets ``starts_word``, ``piece_surface``
and ``offset_normalization`` to its own rules."""
from collections import namedtuple

from ..core import environment  # noqa: F401  (first: numpy check, mxnet without onnx, the gluonnlp fix)
import gluonnlp as nlp

__all__ = ['EncodedText', 'EncodingMixin']

EncodedText = namedtuple('EncodedText', ['input_ids', 'valid_length', 'token_type_ids'])


class EncodingMixin:
    """For a class whose instances are callable tokenizers with ``.vocab``."""

    # How a kind's pieces read as text, for piece_offsets: the Unicode form its pieces are in, and a piece's text
    # without the kind's word marks.
    offset_normalization = 'NFC'

    def starts_word(self, piece: str) -> bool:
        raise NotImplementedError('{} does not say where its words start'.format(type(self).__name__))

    def piece_surface(self, piece: str) -> str:
        raise NotImplementedError('{} does not say how its pieces read as text'.format(type(self).__name__))

    def piece_offsets(self, text):
        """The pieces of ``text`` with the character span of ``text`` each stands for (:mod:`.offsets`)."""
        from .offsets import piece_offsets
        return piece_offsets(self, text)

    def tokenize(self, text):
        """The pieces of ``text``."""
        return self(text)

    def transform(self, max_seq_length=128, pair=False, pad=True) -> nlp.data.BERTSentenceTransform:
        """A ``BERTSentenceTransform`` over this tokenizer."""
        return nlp.data.BERTSentenceTransform(self, max_seq_length=max_seq_length, pad=pad, pair=pair)

    def encode(self, text, text_pair=None, max_seq_length=128, pad=True) -> EncodedText:
        """``[CLS] text [SEP] (text_pair [SEP])`` as numpy arrays, exactly as ``BERTSentenceTransform`` makes them."""
        if not isinstance(text, str) or (text_pair is not None and not isinstance(text_pair, str)):
            raise TypeError('encode() takes strings, got {} and {}'.format(type(text).__name__,
                                                                           type(text_pair).__name__))
        pair = text_pair is not None
        sample = (text, text_pair) if pair else (text,)
        return EncodedText(*self.transform(max_seq_length, pair=pair, pad=pad)(sample))
