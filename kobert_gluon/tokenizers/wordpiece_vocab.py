"""Building a WordPiece vocabulary (KoELECTRA's kind) from a corpus, on the ``tokenizers`` library's trainer.

The result is a vocabulary folder that the ``wordpiece`` tokenizer kind reads::

    vocab.txt         [PAD] [UNK] [CLS] [SEP] [MASK], the trained pieces (``##`` marks a continuation), then
                      ``[unused0]`` ... as KoELECTRA appends them (room for tokens added later)
    build_info.json   how it was built (corpus, settings, alphabet, measured [UNK] rate and pieces per word)

Training: cased and accent-preserving (``lowercase=False``, ``strip_accents=False``: stripping accents decomposes
Hangul), the corpus NFC-normalised first (what the tokenizer does at use), BERT's pre-tokenization (whitespace,
punctuation, CJK ideographs). The alphabet is the most frequent characters that cover ``character_coverage`` of the
sample (as SentencePiece's option, 0.9995), so rare Hanja and emoji stay [UNK] instead of taking pieces.

``pre_tokenize='mecab'`` trains on text split into Mecab morphemes first (mecab-ko with its dictionary package, the
``[mecab]`` extra), as KoELECTRA built its vocabulary: pieces then follow morpheme boundaries. Text is tokenized
without Mecab at use, exactly as KoELECTRA's tokenizer does. ``kind='mecab+wordpiece'`` builds the same vocabulary
for a model fed the way it was trained (the BERT walk-through's): its folder is of the ``mecab+wordpiece`` tokenizer
kind, which runs Mecab before WordPiece at use as well.
"""
import unicodedata
from collections import Counter
from pathlib import Path
from typing import List, Optional, Sequence, Union

from ..core import progress
from ..core.corpus_text import TextSource
from ..core.documents import write_json
from ..core.errors import InputError
from ..core.owned_folders import check_replaceable, write_folder_atomically
from .vocab_builder import (BUILD_INFO_FILE, BUILD_INFO_FORMAT, DEFAULT_CHARACTER_COVERAGE,
                            DEFAULT_INPUT_SENTENCE_SIZE, UNK_RATE_SAMPLE_LINES, VOCAB_KIND, VocabFolder, sample_lines,
                            check_corpus_options)
from .wordpiece import VOCAB_TXT, WordPieceTokenizer, basic_tokenize

__all__ = ['build_wordpiece_vocab', 'PRE_TOKENIZERS', 'WORDPIECE_SPECIAL_TOKENS', 'DEFAULT_UNUSED_TOKENS']

# KoELECTRA's (and BERT's vocab.txt) order: [PAD] is id 0.
WORDPIECE_SPECIAL_TOKENS = ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]')
DEFAULT_UNUSED_TOKENS = 200  # KoELECTRA: 32,000 pieces + [unused0..199]
PRE_TOKENIZERS = ('none', 'mecab')
# The tokenizer kinds a WordPiece vocabulary folder can be
TOKENIZER_KINDS = ('wordpiece', 'mecab+wordpiece')


def _mecab_splitter():
    """A function that splits a line into Mecab morphemes (space-joined)."""
    from .mecab import mecab_tagger, morphemes
    tagger = mecab_tagger('--pre-tokenize mecab')

    def split(line: str) -> str:
        return ' '.join(morphemes(tagger, line))
    return split


def _alphabet_size(lines: Sequence[str], coverage: float) -> int:
    """How many of the most frequent (non-space) characters it takes to cover ``coverage`` of all of them."""
    counts = Counter(char for line in lines for char in line if not char.isspace())
    total = sum(counts.values())
    covered = 0
    for rank, (_, count) in enumerate(counts.most_common(), start=1):
        covered += count
        if covered >= coverage * total:
            return rank
    return len(counts)


def _measure(tokenizer: WordPieceTokenizer, lines: Sequence[str]):
    """``([UNK] share of pieces, pieces per word)`` of ``lines`` through the tokenizer as it is used."""
    unknown = tokenizer.vocab.unknown_token
    pieces = unknowns = words = 0
    for line in lines:
        for word in basic_tokenize(line):
            word_pieces = tokenizer(word)
            words += 1
            pieces += len(word_pieces)
            unknowns += sum(1 for piece in word_pieces if piece == unknown)
    return (unknowns / pieces if pieces else 0.0), (pieces / words if words else 0.0)


def build_wordpiece_vocab(corpus_files: Union[TextSource, Sequence, str, Path], size: int, out_dir, *,
                          column=None, header: Optional[bool] = None, pre_tokenize: str = 'none',
                          unused_tokens: int = DEFAULT_UNUSED_TOKENS, min_frequency: int = 2,
                          character_coverage: float = DEFAULT_CHARACTER_COVERAGE,
                          input_sentence_size: int = DEFAULT_INPUT_SENTENCE_SIZE, seed: int = 0,
                          overwrite: bool = False, encoding: str = 'utf-8', kind: str = 'wordpiece') -> VocabFolder:
    """Train a WordPiece vocabulary of ``size`` tokens (the five special tokens included) on a corpus, append
    ``unused_tokens`` ``[unusedN]`` tokens, and write a vocabulary folder (see the module docstring).

    ``corpus_files`` are text files (one text per line) or, with ``column``/``header``, tab-separated files, or a
    :class:`TextSource`; a uniform sample of at most ``input_sentence_size`` lines (drawn with ``seed``) is trained
    on. ``kind``: ``wordpiece`` (plain WordPiece at use) or ``mecab+wordpiece`` (Mecab morphemes at training and at
    use; ``pre_tokenize`` is then ``mecab``). The same corpus and settings give the same vocabulary but for ties: the ``tokenizers`` trainer breaks ties
    between equally frequent merges in an order that changes from process to process (two runs on NSMC's 150k reviews at
    8,000 tokens each had 12 the other lacked), so keep the folder a model was trained with.
    """
    try:
        from tokenizers import BertWordPieceTokenizer
    except ImportError:
        raise InputError('building a WordPiece vocabulary needs the tokenizers library: pip install tokenizers') \
            from None
    source = (corpus_files if isinstance(corpus_files, TextSource)
              else TextSource(corpus_files, column, header, encoding=encoding))
    check_corpus_options(size, character_coverage, input_sentence_size)
    if kind not in TOKENIZER_KINDS:
        raise InputError('kind must be one of {}, got {!r}'.format(', '.join(TOKENIZER_KINDS), kind))
    if kind == 'mecab+wordpiece':
        pre_tokenize = 'mecab'
    if pre_tokenize not in PRE_TOKENIZERS:
        raise InputError('pre_tokenize must be one of {}, got {!r}'.format(', '.join(PRE_TOKENIZERS), pre_tokenize))
    if not isinstance(unused_tokens, int) or unused_tokens < 0:
        raise InputError('unused_tokens must be an integer >= 0, got {!r}'.format(unused_tokens))
    if not isinstance(min_frequency, int) or min_frequency < 1:
        raise InputError('min_frequency must be an integer >= 1, got {!r}'.format(min_frequency))
    split = _mecab_splitter() if pre_tokenize == 'mecab' else None  # a missing Mecab fails before the long part
    out_dir = Path(out_dir)
    check_replaceable(out_dir, VOCAB_KIND, overwrite, inputs=source.paths)

    import random
    sample, seen = sample_lines(progress.counted(source.lines(), desc='reading the corpus', unit='lines'),
                                input_sentence_size, random.Random(seed))
    if not sample:
        raise InputError('the corpus {} has no text'.format(', '.join(str(p) for p in source.paths)))
    sample = [unicodedata.normalize('NFC', line) for line in sample]  # as the tokenizer normalises at use
    training_lines: List[str] = [split(line) for line in progress.counted(
        sample, desc='splitting into Mecab morphemes', unit='lines')] if split else sample
    alphabet = _alphabet_size(sample, character_coverage)
    progress.phase('training a {:,}-token WordPiece vocabulary on {:,} lines'.format(size, len(sample)))

    trainer = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    trainer.train_from_iterator(training_lines, vocab_size=size, min_frequency=min_frequency,
                                limit_alphabet=alphabet, special_tokens=list(WORDPIECE_SPECIAL_TOKENS),
                                wordpieces_prefix='##', show_progress=False)
    del training_lines
    pieces = [token for token, _ in sorted(trainer.get_vocab().items(), key=lambda item: item[1])]
    if tuple(pieces[:len(WORDPIECE_SPECIAL_TOKENS)]) != WORDPIECE_SPECIAL_TOKENS:
        raise RuntimeError('the WordPiece trainer did not put the special tokens first: {}'.format(pieces[:5]))
    if len(pieces) > size:  # the trainer keeps the whole alphabet (each character and its ## form) whatever the size
        raise InputError('a {}-token vocabulary cannot hold this corpus\'s alphabet: {} characters cover {:.2%} of it, '
                         'which with their ## forms make {} tokens; raise --size or lower --character-coverage'
                         .format(size, alphabet, character_coverage, len(pieces)))
    unused = ['[unused{}]'.format(i) for i in range(unused_tokens)]
    clashes = sorted(set(pieces) & set(unused))
    if clashes:
        raise InputError('the corpus itself yields the token(s) {}; pass --unused-tokens 0'.format(', '.join(clashes)))

    def write(tmp: Path):
        (tmp / VOCAB_TXT).write_text(''.join(token + '\n' for token in pieces + unused), encoding='utf-8')
        # measured as the folder will be used: a vocabulary built on morphemes is fed morphemes
        tokenizer_class = WordPieceTokenizer
        if kind == 'mecab+wordpiece':
            from .mecab_wordpiece import MecabWordPieceTokenizer as tokenizer_class
        tokenizer = tokenizer_class.from_vocab_txt(tmp / VOCAB_TXT)
        unk_rate, pieces_per_word = _measure(tokenizer, sample[:UNK_RATE_SAMPLE_LINES])
        write_json(tmp / BUILD_INFO_FILE, {
            'format': BUILD_INFO_FORMAT,
            'kind': tokenizer.kind,
            'corpus': source.describe(),
            'corpus_lines': seen,
            'training_lines': len(sample),
            'wordpiece': {'trainer': 'tokenizers BertWordPieceTokenizer', 'vocab_size': size,
                          'trained_pieces': len(pieces), 'unused_tokens': unused_tokens,
                          'min_frequency': min_frequency, 'character_coverage': character_coverage,
                          'alphabet': alphabet, 'lowercase': False, 'strip_accents': False,
                          'pre_tokenize': pre_tokenize, 'seed': seed},
            'bert_vocab_size': len(pieces) + unused_tokens,
            'special_tokens': list(WORDPIECE_SPECIAL_TOKENS),
            'unk_rate_on_training_sample': round(unk_rate, 6),
            'pieces_per_word_on_training_sample': round(pieces_per_word, 4),
        })

    return VocabFolder(write_folder_atomically(out_dir, VOCAB_KIND, write, overwrite=overwrite, inputs=source.paths))
