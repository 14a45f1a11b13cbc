"""What every tokenizer kind offers on top of ``tokenizer(text) -> pieces``: ``tokenize``, ``transform`` (a
gluonnlp ``BERTSentenceTransform``), ``encode`` (one text or pair as the arrays BERT takes), and ``starts_word``
(whether a piece begins a whitespace-separated word: whole-word masking groups the pieces by it) and
``piece_offsets`` (each piece with its character span in the text). A kind implements ``split_pieces(text)`` (its
pieces of plain text) and sets ``starts_word``, ``piece_surface`` and ``offset_normalization`` to its own rules.

Calling a tokenizer keeps the vocabulary's special tokens (``[CLS]``, ``[SEP]``, ``[MASK]``, ``[PAD]``,
``[UNK]``) whole wherever they appear in the text, and splits only the text between them, as transformers'
tokenizers do: ``"[CLS] 한국어 [SEP]"`` is ``[CLS]``, the pieces of `` 한국어 ``, ``[SEP]`` (where BERT's basic
tokenization alone would give ``[``, ``CLS``, ``]``)."""
import re
from collections import namedtuple

from ..core import checks
from ..core.mxnet_stack import nlp

__all__ = ['EncodedText', 'EncodingMixin']

EncodedText = namedtuple('EncodedText', ['input_ids', 'valid_length', 'token_type_ids'])


# The BERTVocab attributes that name the special tokens a tokenizer never splits
SPECIAL_TOKEN_ATTRIBUTES = ('cls_token', 'sep_token', 'mask_token', 'padding_token', 'unknown_token')


class EncodingMixin:
    """For a tokenizer class with ``.vocab`` and ``split_pieces(text)``: calling it gives the pieces of a text."""

    def __call__(self, text):
        pattern = self._special_pattern()
        if pattern is None or not pattern.search(text):
            return self.split_pieces(text)
        pieces = []
        for part in pattern.split(text):  # the capturing group keeps the special tokens as parts
            if part in self._special_tokens:
                pieces.append(part)
            elif part.strip():
                pieces.extend(self.split_pieces(part))
        return pieces

    def split_pieces(self, text):
        raise NotImplementedError('{} does not say how it splits text'.format(type(self).__name__))

    def _special_pattern(self):
        """A regex matching the vocabulary's special tokens (longest first), made once per tokenizer."""
        if getattr(self, '_special_regex_for', None) is not self.vocab:
            tokens = {getattr(self.vocab, name, None) for name in SPECIAL_TOKEN_ATTRIBUTES}
            tokens = sorted((t for t in tokens if t and t in self.vocab.token_to_idx), key=len, reverse=True)
            self._special_tokens = frozenset(tokens)
            self._special_regex = re.compile('({})'.format('|'.join(map(re.escape, tokens)))) if tokens else None
            self._special_regex_for = self.vocab
        return self._special_regex

    # How a kind's pieces read as text, for piece_offsets: the Unicode form its pieces are in, and a piece's text
    # without the kind's word marks.
    offset_normalization = 'NFC'

    # The special-token layout of a pair: BERT's ``[CLS] A [SEP] B [SEP]``, the second text's token type 1. A kind
    # laid out otherwise sets these (XLM-RoBERTa: ``<s> A </s></s> B </s>``, every type 0) and its ``transform``;
    # whatever builds a pair by hand (question-answering windows) reads them.
    pair_separators = 1
    second_token_type = 1

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
        return self(checks.text('text', text))

    def transform(self, max_seq_length=128, pair=False, pad=True) -> nlp.data.BERTSentenceTransform:
        """A ``BERTSentenceTransform`` over this tokenizer."""
        return nlp.data.BERTSentenceTransform(self, max_seq_length=max_seq_length, pad=pad, pair=pair)

    def encode(self, text, text_pair=None, max_seq_length=128, pad=True) -> EncodedText:
        """``[CLS] text [SEP] (text_pair [SEP])`` as numpy arrays, exactly as ``BERTSentenceTransform`` makes them."""
        checks.text('text', text)
        if text_pair is not None:
            checks.text('text_pair', text_pair)
        pair = text_pair is not None
        # the command line's --max-seq-length rule: a shorter sequence would hold [CLS] and [SEP] without the text
        checks.max_seq_length('max_seq_length', max_seq_length, pair=pair)
        sample = (text, text_pair) if pair else (text,)
        return EncodedText(*self.transform(max_seq_length, pair=pair, pad=pad)(sample))
