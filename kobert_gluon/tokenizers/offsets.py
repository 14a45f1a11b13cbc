"""Where each piece of a text came from: character offsets for any tokenizer kind.

Token classification labels characters and extractive QA answers with character spans, so both need, for every
piece the tokenizer makes, the characters of the *original* text it stands for. Neither kind's tokenizer keeps
them: both normalise the text (SentencePiece NFKC, so ``㈜`` becomes the three pieces ``( 주 )`` and ``ﬁ`` two
letters; WordPiece NFC), drop control characters and split off punctuation.

:func:`piece_offsets` recovers them without touching the tokenizer. Both kinds split on whitespace before anything
else (BERT's definition: space, tab, newline, carriage return and Unicode ``Zs``), so the text is cut into those
words here with their offsets, each word is tokenized alone (the pieces are the same as the whole text's: a test
checks this on real text) and its pieces are matched, in order, against the word normalised as the kind
normalises it. A piece's span is mapped back through the normalisation, so a piece made of part of one
character (``f`` of ``ﬁ``) gets that whole character, and pieces of a composed character get its source
characters. ``[UNK]`` spans up to where the next known piece starts (for WordPiece: the whole word), and a run
of several ``[UNK]`` is cut where the tokenizer itself cuts it (``船體`` is two, one per character). A piece with
no text of its own (SentencePiece's lone ``▁``) gets an empty span at its position.
"""
import unicodedata
from typing import List, NamedTuple, Optional

__all__ = ['PieceSpan', 'piece_offsets', 'split_words', 'is_bert_whitespace']


class PieceSpan(NamedTuple):
    """A piece and the characters ``text[start:end]`` of the original text it came from."""
    piece: str
    start: int
    end: int


def is_bert_whitespace(char: str) -> bool:
    return char in ' \t\n\r' or unicodedata.category(char) == 'Zs'


def split_words(text: str) -> List[tuple]:
    """``(start, end)`` of each maximal run of non-whitespace characters (BERT's whitespace)."""
    words, start = [], None
    for i, char in enumerate(text):
        if is_bert_whitespace(char):
            if start is not None:
                words.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        words.append((start, len(text)))
    return words


def _boundaries(word: str, form: str) -> List[int]:
    """``b[j]`` = length of the normalised ``word[:j]``: normalised position ``k`` comes from the last ``j`` with
    ``b[j] <= k``."""
    if unicodedata.normalize(form, word) == word and all(
            unicodedata.normalize(form, c) == c for c in word):
        return list(range(len(word) + 1))
    return [len(unicodedata.normalize(form, word[:j])) for j in range(len(word) + 1)]


def _to_original(boundaries: List[int], position: int) -> int:
    """The last original index ``j`` whose normalised prefix length is at most ``position``."""
    low, high = 0, len(boundaries) - 1
    while low < high:  # boundaries are non-decreasing in practice; binary search for the last b[j] <= position
        middle = (low + high + 1) // 2
        if boundaries[middle] <= position:
            low = middle
        else:
            high = middle - 1
    return low


def _unknown_run_end(tokenizer, normalised: str, position: int, run: int, rest: List[str], guess: int) -> int:
    """Where ``run`` consecutive ``[UNK]`` pieces starting at ``position`` end: the cut after which the rest of the
    word tokenizes to the pieces that follow them (``rest``) and before which to ``run`` unknowns (the next known
    piece's text can occur inside an unknown one: ``⁄4–4`` is ``[UNK] [UNK] 4``); ``guess`` when no cut does."""
    unknowns = [tokenizer.vocab.unknown_token] * run
    for cut in [guess] + [c for c in range(position + 1, len(normalised) + 1) if c != guess]:
        if tokenizer(normalised[position:cut]) == unknowns and tokenizer(normalised[cut:]) == rest:
            return cut
    return guess


def _unknown_end(tokenizer, gap: str, run: int) -> int:
    """Where the first of ``run`` consecutive ``[UNK]`` pieces standing for ``gap`` ends: the shortest start of
    ``gap`` that is one ``[UNK]`` and leaves ``run - 1`` of them (WordPiece makes one per CJK character or
    punctuation mark: ``船體`` is two); all of ``gap`` when no cut does."""
    unknown = tokenizer.vocab.unknown_token
    for cut in range(1, len(gap)):
        if tokenizer(gap[:cut]) == [unknown] and tokenizer(gap[cut:]) == [unknown] * (run - 1):
            return cut
    return len(gap)


def _word_spans(word: str, pieces: List[str], surfaces: List[Optional[str]], form: str, tokenizer=None
                ) -> List[tuple]:
    """``(start, end)`` within ``word`` for each piece; ``surfaces[i]`` is the piece's text (None: unknown)."""
    normalised = unicodedata.normalize(form, word)
    boundaries = _boundaries(word, form)
    spans, position, run_end = [], 0, None
    for i, surface in enumerate(surfaces):
        if surface is None:  # [UNK]: up to where the next known piece is found, or the end of the word
            following = next((s for s in surfaces[i + 1:] if s), None)
            found = normalised.find(following, position) if following else -1
            start, end = position, (found if found > position else len(normalised))
            if tokenizer is not None:  # checked with the tokenizer; several [UNK] in a row share those characters
                left = next((j for j, s in enumerate(surfaces[i:]) if s is not None), len(surfaces) - i)
                if i == 0 or surfaces[i - 1] is not None:
                    run_end = _unknown_run_end(tokenizer, normalised, start, left, pieces[i + left:], end)
                end = run_end if left == 1 else start + _unknown_end(tokenizer, normalised[start:run_end], left)
        elif surface == '':
            start = end = position
        else:
            found = normalised.find(surface, position)
            if found < 0:  # a normalisation this module does not reproduce: take the next characters
                found = position
            start, end = found, min(len(normalised), found + len(surface))
        position = end
        spans.append((start, end))
    result = []
    for start, end in spans:
        original_start = _to_original(boundaries, start)
        if end == start:
            result.append((original_start, original_start))
            continue
        original_end = _to_original(boundaries, end)
        if end >= len(normalised):
            original_end = len(word)
        # a piece made of part of one character's normalised form still covers that character
        result.append((min(original_start, len(word)), max(original_end, min(original_start + 1, len(word)))))
    return result


def piece_offsets(tokenizer, text: str) -> List[PieceSpan]:
    """Every piece of ``tokenizer(text)`` with the span of ``text`` it stands for (see the module docstring).

    ``tokenizer`` is any kind of this package (it says how its pieces read as text: ``piece_surface`` and
    ``offset_normalization``)."""
    unknown = tokenizer.vocab.unknown_token
    form = tokenizer.offset_normalization
    result = []
    for word_start, word_end in split_words(text):
        word = text[word_start:word_end]
        pieces = tokenizer(word)
        surfaces = [None if piece == unknown else tokenizer.piece_surface(piece) for piece in pieces]
        for piece, (start, end) in zip(pieces, _word_spans(word, pieces, surfaces, form, tokenizer)):
            result.append(PieceSpan(piece, word_start + start, word_start + end))
    return result
