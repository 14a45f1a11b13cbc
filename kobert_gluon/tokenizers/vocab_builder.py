"""Building a KoBERT-style vocabulary from a corpus: a SentencePiece unigram model and its gluonnlp BERTVocab.

The result is a folder in KoBERT's layout, with the file names a saved model folder uses::

    tokenizer.model   SentencePiece unigram model (``<unk>``=0, ``<s>``=1, ``</s>``=2, then pieces)
    vocab.json        gluonnlp BERTVocab: [UNK]=0 [PAD]=1 [CLS]=2 [SEP]=3 [MASK]=4, then every other piece
    build_info.json   how it was built (corpus, settings, measured [UNK] rate)

The BERTVocab is derived from the SentencePiece model exactly as KoBERT's was (applied to KoBERT's own model,
:func:`bert_vocab_from_sentencepiece` reproduces ``kobertvocab_f38b8a4d6d.json`` token for token), so
``BERTSPTokenizer(tokenizer.model, vocab, lower=False)`` and ``BERTSentenceTransform`` work with these files
as with KoBERT's.
"""
import io
import json
import os
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import sentencepiece as spm

from ..core import progress
from ..core.documents import write_json
from ..core.errors import InputError
from ..core.corpus_text import TextSource
from ..core.mxnet_stack import nlp
from ..core.owned_folders import (FolderKind, check_replaceable, register_folder_kind,
                                  write_folder_atomically)
from .kinds import get_tokenizer_kind
from .sentencepiece import (KIND as SENTENCEPIECE_KIND, MODEL_FILE as TOKENIZER_FILE, VOCAB_FILE, KoBERTTokenizer,
                            load_folder, vocab_to_json_file)
from .wordpiece import KIND as WORDPIECE_KIND, VOCAB_TXT

__all__ = ['SPECIAL_TOKENS', 'BUILD_INFO_FILE', 'VocabFolder', 'build_vocab', 'bert_vocab_from_sentencepiece',
           'read_vocab_folder']

# KoBERT's ids for BERT's special tokens; every SentencePiece piece follows them in sorted order.
SPECIAL_TOKENS = ('[UNK]', '[PAD]', '[CLS]', '[SEP]', '[MASK]')
BUILD_INFO_FILE = 'build_info.json'
VOCAB_KIND = register_folder_kind(FolderKind(
    'vocabulary', 'vocabulary', (TOKENIZER_FILE, VOCAB_FILE, VOCAB_TXT, BUILD_INFO_FILE),
    legacy=lambda folder: (folder / BUILD_INFO_FILE).is_file() and (folder / TOKENIZER_FILE).is_file())).name
BUILD_INFO_FORMAT = 'kobert-gluon-vocab'

# Korean text carries thousands of distinct Hangul syllables plus Hanja, Latin and symbols. Covering 99.95 % of
# characters (SentencePiece's recommendation for CJK, and what KoBERT used) keeps every common syllable as a
# piece while leaving rare Hanja and emoji to [UNK] instead of spending an 8k vocabulary on them.
DEFAULT_CHARACTER_COVERAGE = 0.9995
# SentencePiece holds its training sentences in memory; a uniform sample of this many lines bounds that.
DEFAULT_INPUT_SENTENCE_SIZE = 1_000_000
UNK_RATE_SAMPLE_LINES = 10_000


@dataclass(frozen=True)
class VocabFolder:
    """A folder written by :func:`build_vocab` (SentencePiece) or
    :func:`~kobert_gluon.tokenizers.wordpiece_vocab.build_wordpiece_vocab` (WordPiece: ``vocab.txt`` alone)."""
    folder: Path

    @property
    def kind(self) -> str:
        """The tokenizer kind the vocabulary was built for, as its build_info says (``sentencepiece``,
        ``wordpiece``, ``mecab+wordpiece``: a WordPiece vocabulary fed Mecab morphemes at use too)."""
        info = self.folder / BUILD_INFO_FILE
        document = json.loads(info.read_text(encoding='utf-8')) if info.is_file() else {}
        if 'kind' in document:
            return document['kind']
        # written before build_info named its kind: a WordPiece vocabulary is its vocab.txt, SentencePiece has none
        return WORDPIECE_KIND if (self.folder / VOCAB_TXT).is_file() else SENTENCEPIECE_KIND

    @property
    def files(self) -> List[Path]:
        """The tokenizer files the folder holds (the SentencePiece model and its vocab.json, or vocab.txt)."""
        return [self.folder / name for name in (TOKENIZER_FILE, VOCAB_FILE, VOCAB_TXT) if (self.folder / name).is_file()]

    @property
    def tokenizer_path(self) -> Path:
        """The SentencePiece model (a WordPiece vocabulary has none: its ``vocab_path`` is everything)."""
        return self.folder / TOKENIZER_FILE

    @property
    def vocab_path(self) -> Path:
        """The file that gives the ids: vocab.txt where the folder has one, else vocab.json."""
        return self.folder / (VOCAB_TXT if (self.folder / VOCAB_TXT).is_file() else VOCAB_FILE)

    def vocab(self) -> nlp.vocab.BERTVocab:
        return self.tokenizer().vocab

    def tokenizer(self):
        """The tokenizer of the folder's kind (its registered ``load_folder``; the kinds are registered by
        :mod:`.registry`, which ``kobert_gluon.build_vocab`` and ``load_tokenizer`` load)."""
        return get_tokenizer_kind(self.kind).load_folder(self.folder)

    def build_info(self) -> dict:
        return json.loads((self.folder / BUILD_INFO_FILE).read_text(encoding='utf-8'))


def bert_vocab_from_sentencepiece(sp_model_path) -> nlp.vocab.BERTVocab:
    """KoBERT's BERTVocab for a SentencePiece model: the five special tokens, then every non-control piece.

    SentencePiece's own ``<unk>``/``<s>``/``</s>`` are left out: its unknown pieces map to ``[UNK]`` and BERT
    uses ``[CLS]``/``[SEP]`` instead of sentence markers.
    """
    processor = spm.SentencePieceProcessor(model_file=str(sp_model_path))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())
              if not (processor.is_control(i) or processor.is_unknown(i))]
    clashes = sorted(set(pieces) & set(SPECIAL_TOKENS))
    if clashes:
        raise InputError('SentencePiece model {} has pieces that are BERT special tokens: {}'
                         .format(sp_model_path, ', '.join(clashes)))
    # Equal counts make gluonnlp order the pieces alphabetically, as in KoBERT's vocab; token_to_idx pins the
    # special tokens to KoBERT's ids (gluonnlp alone would put them in another order).
    return nlp.vocab.BERTVocab(Counter(pieces), unknown_token='[UNK]', padding_token='[PAD]', cls_token='[CLS]',
                               sep_token='[SEP]', mask_token='[MASK]',
                               token_to_idx={token: i for i, token in enumerate(SPECIAL_TOKENS)})


def read_vocab_folder(folder) -> Tuple[str, nlp.vocab.BERTVocab]:
    """``(SentencePiece model path, BERTVocab)`` of a folder holding ``tokenizer.model`` and ``vocab.json``
    (a :func:`build_vocab` folder or a saved model folder)."""
    tokenizer = load_folder(folder)
    return tokenizer.sp_model_path, tokenizer.vocab


def check_corpus_options(size, character_coverage: float, input_sentence_size: int) -> None:
    """The options every vocabulary builder shares (SentencePiece here, WordPiece in :mod:`.wordpiece_vocab`)."""
    if not isinstance(size, int) or size < 16:
        raise InputError('vocabulary size must be an integer >= 16, got {!r}'.format(size))
    if not 0.9 <= character_coverage <= 1.0:
        raise InputError('character_coverage must be in [0.9, 1.0], got {}'.format(character_coverage))
    if input_sentence_size < 1:
        raise InputError('input_sentence_size must be >= 1, got {}'.format(input_sentence_size))


def sample_lines(lines: Iterable[str], size: int, rng: random.Random) -> Tuple[List[str], int]:
    """A uniform sample of at most ``size`` non-blank lines (reservoir sampling) and the number seen.

    Sampled here rather than by SentencePiece (``input_sentence_size``) because SentencePiece's own
    sampling is not repeatable for a seed, and a vocabulary should be.
    """
    sample: List[str] = []
    seen = 0
    for line in lines:
        line = line.strip()
        if not line:
            continue
        seen += 1
        if len(sample) < size:
            sample.append(line)
        else:
            slot = rng.randrange(seen)
            if slot < size:
                sample[slot] = line
    return sample, seen


def _unk_rate(tokenizer: KoBERTTokenizer, lines: Sequence[str]) -> float:
    """Share of tokens that map to [UNK] when ``lines`` go through the BERT tokenizer."""
    unk_id = tokenizer.vocab[tokenizer.vocab.unknown_token]
    total = unknown = 0
    for line in lines:
        ids = tokenizer.convert_tokens_to_ids(tokenizer(line))
        total += len(ids)
        unknown += sum(1 for i in ids if i == unk_id)
    return unknown / total if total else 0.0


def build_vocab(corpus_files: Union[TextSource, Sequence, str, Path], size: int, out_dir, *,
                column=None, header: Optional[bool] = None,
                character_coverage: float = DEFAULT_CHARACTER_COVERAGE,
                input_sentence_size: int = DEFAULT_INPUT_SENTENCE_SIZE, pretokenize: bool = True, seed: int = 0,
                num_threads: Optional[int] = None, overwrite: bool = False, verbose: bool = False,
                encoding: str = 'utf-8') -> VocabFolder:
    """Train a SentencePiece unigram model of ``size`` pieces on a corpus and write a KoBERT-layout folder.

    ``size`` counts SentencePiece pieces as KoBERT's 8000 did; the BERTVocab then has ``size + 2`` tokens
    (the five BERT special tokens replace SentencePiece's three control pieces). ``corpus_files`` are text
    files (one sentence or text per line) or, with ``column``/``header``, tab-separated files (see
    :class:`TextSource`), or a ready :class:`TextSource`.

    ``pretokenize`` trains on text split the way ``BERTSPTokenizer`` splits it before calling SentencePiece
    (punctuation becomes separate words), so no piece is spent on strings like ``'..'`` or ``'다.'`` that the
    tokenizer can never produce. The same corpus, ``seed`` and ``num_threads`` give identical files.
    ``encoding`` is the corpus files' text encoding (default UTF-8).
    """
    source = (corpus_files if isinstance(corpus_files, TextSource)
              else TextSource(corpus_files, column, header, encoding=encoding))
    check_corpus_options(size, character_coverage, input_sentence_size)
    num_threads = num_threads or min(os.cpu_count() or 1, 16)
    out_dir = Path(out_dir)
    check_replaceable(out_dir, VOCAB_KIND, overwrite, inputs=source.paths)  # before the long part

    sample, seen = sample_lines(progress.counted(source.lines(), desc='reading the corpus', unit='lines'),
                                input_sentence_size, random.Random(seed))
    if not sample:
        raise InputError('the corpus {} has no text'.format(', '.join(str(p) for p in source.paths)))
    basic = nlp.data.BERTBasicTokenizer(lower=False)  # the same first step as BERTSPTokenizer(lower=False)
    training_lines = [' '.join(basic(line)) for line in progress.counted(
        sample, desc='splitting as BERTSPTokenizer does', unit='lines')] if pretokenize else sample
    # SentencePiece's trainer reports nothing we can count: say what runs, so a quiet minute is not a hang
    progress.phase('training a {:,}-piece SentencePiece unigram model on {:,} lines with {} thread(s)'
                   .format(size, len(sample), num_threads))

    model_bytes = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(training_lines), model_writer=model_bytes, model_type='unigram',
            vocab_size=size, character_coverage=character_coverage, input_sentence_size=0,
            shuffle_input_sentence=False, num_threads=num_threads, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
            normalization_rule_name='nmt_nfkc', minloglevel=0 if verbose else 2)
    except RuntimeError as err:  # e.g. "Vocabulary size too high (8000). Please set it to a value <= 4210."
        # SentencePiece names its own flags (--character_coverage); ours are spelled --character-coverage
        reason = str(err).strip().replace('--character_coverage', '--character-coverage')
        raise InputError('SentencePiece could not train a {}-piece model on this corpus: {}'
                         .format(size, reason)) from err
    del training_lines

    def write(tmp: Path):
        (tmp / TOKENIZER_FILE).write_bytes(model_bytes.getvalue())
        vocab = bert_vocab_from_sentencepiece(tmp / TOKENIZER_FILE)
        vocab_to_json_file(vocab, tmp / VOCAB_FILE)
        tokenizer = KoBERTTokenizer(str(tmp / TOKENIZER_FILE), vocab)
        progress.phase('measuring the [UNK] rate on {:,} training lines'
                       .format(min(len(sample), UNK_RATE_SAMPLE_LINES)))
        info = {
            'format': BUILD_INFO_FORMAT,
            'kind': tokenizer.kind,
            'corpus': source.describe(),
            'corpus_lines': seen,
            'training_lines': len(sample),
            'sentencepiece': {'model_type': 'unigram', 'vocab_size': size, 'character_coverage': character_coverage,
                              'normalization': 'nmt_nfkc', 'pretokenized_like_BERTSPTokenizer': pretokenize,
                              'num_threads': num_threads, 'seed': seed},
            'bert_vocab_size': len(vocab),
            'special_tokens': list(SPECIAL_TOKENS),
            'unk_rate_on_training_sample': round(_unk_rate(tokenizer, sample[:UNK_RATE_SAMPLE_LINES]), 6),
        }
        write_json(tmp / BUILD_INFO_FILE, info)

    return VocabFolder(write_folder_atomically(out_dir, VOCAB_KIND, write, overwrite=overwrite, inputs=source.paths))
