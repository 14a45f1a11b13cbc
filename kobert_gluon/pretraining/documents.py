"""Turning corpus text into documents (lists of sentences) for next-sentence prediction.

Two input formats:

``documents``
    BERT's format: one sentence per line, documents separated by blank lines.
``lines``
    One short document per line (or per TSV cell), such as an NSMC movie review. The text is split into
    sentences at sentence-final punctuation. NSP then asks "does B continue the same review as A?", a real
    coherence signal; grouping consecutive reviews into pseudo-documents would not be, because neighbouring
    NSMC reviews are about unrelated films, so their "next" pairs would be no more related than random ones.
    Most reviews are a single sentence (59 % of NSMC train), and BERT's algorithm can only pair a one-sentence
    document with a random B, which would tilt the NSP labels far from 50/50. So, by default, a one-sentence
    text of two or more words is cut at its middle word boundary into two segments; BERT's "sentences" are
    arbitrary contiguous spans anyway.

Everything is streamed: one document at a time.
"""
import re
from typing import Dict, Iterator, List, Optional

from ..core.errors import InputError
from ..core.corpus_text import TextSource

__all__ = ['INPUT_FORMATS', 'read_documents', 'split_sentences', 'text_to_segments']

INPUT_FORMATS = ('documents', 'lines')

# A sentence ends after a run of . ! ? or … that is not followed by a digit ("3.5점") or more punctuation.
_SENTENCE = re.compile(r'.+?(?:[.!?…]+(?![\d.!?…])|$)')


def split_sentences(text: str) -> List[str]:
    """Sentences of a short informal text: ``'아 더빙.. 진짜 짜증나네요'`` -> ``['아 더빙..', '진짜 짜증나네요']``."""
    return [s.strip() for s in _SENTENCE.findall(text.strip()) if s.strip()]


def text_to_segments(text: str, halve_single_sentences: bool = True) -> List[str]:
    """The segments of one short document (see the module docstring for why single sentences are halved)."""
    sentences = split_sentences(text)
    if halve_single_sentences and len(sentences) == 1:
        words = sentences[0].split()
        if len(words) >= 2:
            middle = len(words) // 2
            return [' '.join(words[:middle]), ' '.join(words[middle:])]
    return sentences


def read_documents(source: TextSource, input_format: str = 'documents', halve_single_sentences: bool = True,
                   skipped: Optional[Dict[str, int]] = None) -> Iterator[List[str]]:
    """Documents (non-empty lists of non-empty sentences) from ``source``, one at a time.

    ``skipped``, if given, counts what was passed over: ``'blank_lines'`` (``lines`` format: a blank line or
    cell is no document; in the ``documents`` format blank lines separate documents and are not counted).
    """
    if input_format not in INPUT_FORMATS:
        raise InputError('input format must be one of {}, got {!r}'.format(', '.join(INPUT_FORMATS), input_format))
    if skipped is not None:
        skipped.setdefault('blank_lines', 0)
    if input_format == 'lines':
        for line in source.lines():
            segments = text_to_segments(line, halve_single_sentences)
            if segments:
                yield segments
            elif skipped is not None:
                skipped['blank_lines'] += 1
        return
    document: List[str] = []
    for line in source.lines():
        line = line.strip()
        if line:
            document.append(line)
        elif document:
            yield document
            document = []
    if document:
        yield document
