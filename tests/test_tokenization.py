"""The original KoBERT tokenization pipeline gives the original ids after ``import kobert_gluon``."""
import pickle
import subprocess
import sys

import gluonnlp as nlp
import numpy as np
import pytest
import sentencepiece as spm
from mxnet import gluon

import kobert_gluon
from kobert_gluon import KoBERTTokenizer, get_tokenizer, get_tokenizer_path, get_vocab

from .conftest import REPO, require_shared
from .nsmc_fixtures import nsmc_train_slice  # noqa: F401

SENTENCE = '한국어 모델을 공유합니다.'


def reference_ids(text, sp_model_path, vocab):
    """Ids computed without gluonnlp's tokenizer classes: BERT's basic split, then plain SentencePiece per word.

    This is what gluonnlp 0.10 with sentencepiece <= 0.1.96 produced (``SampleEncodeAsPieces`` with nbest 0
    meant no sampling), written independently of the package's fix.
    """
    processor = spm.SentencePieceProcessor()
    processor.Load(sp_model_path)
    words = nlp.data.BERTBasicTokenizer(lower=False)(text)
    pieces = [piece for word in words for piece in processor.EncodeAsPieces(word)]
    return [vocab[vocab.cls_token]] + vocab.to_indices(pieces) + [vocab[vocab.sep_token]]


def test_readme_sentencepiece_example(kobert_files):
    # The original KoBERT README: SentencepieceTokenizer(get_tokenizer())('한국어 모델을 공유합니다.')
    sp = nlp.data.SentencepieceTokenizer(get_tokenizer())
    assert sp(SENTENCE) == ['▁한국', '어', '▁모델', '을', '▁공유', '합니다', '.']


def test_vocab_has_original_special_ids(kobert_files):
    vocab = get_vocab()
    assert len(vocab) == 8002
    assert [vocab[t] for t in ('[UNK]', '[PAD]', '[CLS]', '[SEP]', '[MASK]')] == [0, 1, 2, 3, 4]
    assert vocab.padding_token == '[PAD]' and vocab.unknown_token == '[UNK]'
    # KoBERT's published ids for this sentence (HF port README: [2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]).
    assert vocab.to_indices(['▁한국', '어', '▁모델', '을', '▁공유', '합니다', '.']) == [4958, 6855, 2046, 7088,
                                                                                        1050, 7843, 54]


def test_original_single_sentence_pipeline(kobert_files):
    vocab = get_vocab()
    tok = nlp.data.BERTSPTokenizer(get_tokenizer_path(), vocab, lower=False)
    transform = nlp.data.BERTSentenceTransform(tok, max_seq_length=16, pad=True, pair=False)
    ids, valid_length, segments = transform((SENTENCE,))
    # BERTSPTokenizer splits punctuation first, so '.' becomes '▁' '.' (517, 54), as in the original pipeline.
    assert ids.tolist() == [2, 4958, 6855, 2046, 7088, 1050, 7843, 517, 54, 3, 1, 1, 1, 1, 1, 1]
    assert int(valid_length) == 10
    assert segments.tolist() == [0] * 16


def test_real_nsmc_sentences_match_reference(kobert_files):
    path = require_shared('nsmc', 'ratings_train.txt')
    rows = [line.split('\t')[1] for line in path.read_text(encoding='utf-8').splitlines()[1:301]]
    vocab = get_vocab()
    sp_path = get_tokenizer_path()
    tok = nlp.data.BERTSPTokenizer(sp_path, vocab, lower=False)
    transform = nlp.data.BERTSentenceTransform(tok, max_seq_length=512, pad=False, pair=False)
    for text in rows:
        ids, valid_length, _ = transform((text,))
        assert ids.tolist() == reference_ids(text, sp_path, vocab), text
        assert int(valid_length) == len(ids)
    # The first review, whose '..' is split by the basic tokenizer (see NOTES.md).
    assert tok(rows[0])[:8] == ['▁아', '▁더', '빙', '▁', '.', '▁', '.', '▁진짜']


def test_shipped_tokenizer_matches_reference_on_reviews(nsmc_train_slice):
    # The same pipeline with kobert-mini's SentencePiece model and vocabulary (they ship in the package), on the
    # NSMC slice (review-like text made from kobert-mini's pieces where NSMC is absent) and NSMC's first review.
    from kobert_gluon.models.zoo import resolve_tokenizer_files
    first_review = '아 더빙.. 진짜 짜증나네요 목소리'
    rows = [line.split('\t')[1] for line in nsmc_train_slice.read_text(encoding='utf-8').splitlines()[1:301]]
    sp_path, vocab = resolve_tokenizer_files('kobert-mini')
    tok = nlp.data.BERTSPTokenizer(sp_path, vocab, lower=False)
    transform = nlp.data.BERTSentenceTransform(tok, max_seq_length=512, pad=False, pair=False)
    for text in rows + [first_review]:
        ids, valid_length, _ = transform((text,))
        assert ids.tolist() == reference_ids(text, sp_path, vocab), text
        assert int(valid_length) == len(ids)
    assert tok(first_review)[:5] == ['▁아', '▁더빙', '▁.', '▁.', '▁진짜']  # '..' split by the basic tokenizer


@pytest.mark.parametrize('model', ['kobert-base', 'kobert-mini'])
def test_pair_truncation_and_padding(model):
    from kobert_gluon.models.zoo import resolve_tokenizer_files
    if model == 'kobert-base':
        require_shared('kobert')
    sp_path, vocab = resolve_tokenizer_files(model)
    tok = KoBERTTokenizer(sp_path, vocab)
    first, second = '오늘 날씨가 정말 좋네요 산책하고 싶어요', '내일은 비가 온다고 합니다'
    full = tok.encode(first, second, max_seq_length=64, pad=False)
    a_ids = vocab.to_indices(tok(first))
    b_ids = vocab.to_indices(tok(second))
    assert full.input_ids.tolist() == [2] + a_ids + [3] + b_ids + [3]
    assert full.token_type_ids.tolist() == [0] * (len(a_ids) + 2) + [1] * (len(b_ids) + 1)

    # Truncation removes tokens from the longer sequence first (BERT's _truncate_seq_pair).
    short = tok.encode(first, second, max_seq_length=12, pad=True)
    assert int(short.valid_length) == 12 and len(short.input_ids) == 12
    kept_a = short.token_type_ids.tolist().count(0) - 2
    kept_b = short.token_type_ids.tolist().count(1) - 1
    assert kept_a + kept_b == 9 and abs(kept_a - kept_b) <= 1
    assert short.input_ids.tolist() == [2] + a_ids[:kept_a] + [3] + b_ids[:kept_b] + [3]

    padded = tok.encode(first, max_seq_length=40, pad=True)
    n = int(padded.valid_length)
    assert padded.input_ids[n:].tolist() == [vocab['[PAD]']] * (40 - n)
    assert padded.token_type_ids.tolist() == [0] * 40


@pytest.mark.parametrize('model', ['kobert-base', 'kobert-mini'])
def test_tokenizer_from_pretrained_and_pickling(model):
    if model == 'kobert-base':
        require_shared('kobert')
    tok = KoBERTTokenizer.from_pretrained(model)
    before = tok.tokenize(SENTENCE)  # activates the SentencePiece processor
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.tokenize(SENTENCE) == before
    assert clone.encode(SENTENCE).input_ids.tolist() == tok.encode(SENTENCE).input_ids.tolist()


class _Transformed(gluon.data.Dataset):
    """The original notebook's BERTDataset shape: a TSVDataset mapped through BERTSentenceTransform."""

    def __init__(self, dataset, transform):
        self._rows = [transform((row[0],)) + (np.int32(row[1]),) for row in dataset]

    def __getitem__(self, i):
        return self._rows[i]

    def __len__(self):
        return len(self._rows)


def test_tsv_dataset_through_dataloader_workers(tmp_path):
    # the notebook's pipeline on 64 reviews in NSMC's format, with kobert-mini's SentencePiece model (it ships in
    # the package; KoBERT's own goes through the same gluonnlp classes)
    from kobert_gluon.models.zoo import resolve_tokenizer_files
    reviews = ['정말 재미있는 영화였어요', '최악의 영화.. 시간 낭비', '배우들의 연기가 훌륭하고 음악도 좋았다',
               '그냥 그랬다', '다시 보고 싶다!', '지루해서 잤다', '감동', '스토리가 엉망이에요']
    sample = tmp_path / 'sample.txt'
    sample.write_text('id\tdocument\tlabel\n' + ''.join(
        '{}\t{} {}\t{}\n'.format(i, reviews[i % 8], i, i % 2) for i in range(64)), encoding='utf-8')
    dataset = nlp.data.TSVDataset(str(sample), field_indices=[1, 2], num_discard_samples=1)
    tok = nlp.data.BERTSPTokenizer(*resolve_tokenizer_files('kobert-mini'), lower=False)
    transform = nlp.data.BERTSentenceTransform(tok, max_seq_length=32, pad=True, pair=False)
    # The transform runs lazily inside the workers here, which is where the old sentencepiece call failed.
    lazy = dataset.transform(lambda row: transform((row[0],)) + (np.int32(row[1]),), lazy=True)
    eager = _Transformed(dataset, transform)
    in_process = [b[0].asnumpy() for b in gluon.data.DataLoader(eager, batch_size=16)]
    with_workers = [b[0].asnumpy() for b in gluon.data.DataLoader(lazy, batch_size=16, num_workers=2)]
    assert len(in_process) == len(with_workers) == 4
    for a, b in zip(in_process, with_workers):
        np.testing.assert_array_equal(a, b)


def test_sampling_tokenizer_still_samples():
    # The fix only changes nbest 0/1; real subword sampling is left to sentencepiece.
    from .conftest import shipped_tokenizer_path
    sampler = nlp.data.SentencepieceTokenizer(shipped_tokenizer_path(), num_best=-1, alpha=0.1)
    text = '자연어처리모델을공유합니다'
    samples = {tuple(sampler(text)) for _ in range(30)}
    assert len(samples) > 1
    assert all(''.join(s).replace('▁', '') == text for s in samples)


def test_import_prints_nothing():
    result = subprocess.run([sys.executable, '-W', 'always', '-c', 'import kobert_gluon'], cwd=str(REPO),
                            capture_output=True, text=True, check=True)
    assert result.stdout == '' and result.stderr == ''


def test_compat_patch_is_idempotent():
    from kobert_gluon.core import environment as _compat, mxnet_stack  # noqa: F401  (mxnet_stack applies it)
    call = nlp.data.SentencepieceTokenizer.__call__
    _compat.patch_gluonnlp_sentencepiece()
    assert nlp.data.SentencepieceTokenizer.__call__ is call
    assert kobert_gluon.__version__
