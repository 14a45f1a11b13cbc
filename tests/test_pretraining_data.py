"""BERT pretraining data from real Korean text (NSMC slices): layout, masking, NSP, determinism, reading back."""
import random
from collections import Counter

import numpy as np
import pytest

import kobert_gluon
from kobert_gluon import InstanceOptions, PretrainingData, PretrainingShardDataset, TextSource, create_pretraining_data
from kobert_gluon.cli import main
from kobert_gluon.pretraining.documents import read_documents, split_sentences, text_to_segments
from kobert_gluon.pretraining.instances import truncate_seq_pair
import gluonnlp as nlp  # after kobert_gluon, which imports mxnet/gluonnlp without their import warnings
import mxnet as mx

from .nsmc_fixtures import nsmc_test_slice, nsmc_train_slice, nsmc_vocab  # noqa: F401

CHUNK_DOCUMENTS = 500
OPTIONS = InstanceOptions(max_seq_length=128, masked_lm_prob=0.15, max_predictions_per_seq=20, dupe_factor=3)
SHORT_WWM_OPTIONS = InstanceOptions(max_seq_length=24, masked_lm_prob=0.15, max_predictions_per_seq=5,
                                    dupe_factor=2, do_whole_word_mask=True)


def _create(source, out, tokenizer, options, **kwargs):
    settings = dict(input_format='lines', options=options, random_seed=1, chunk_documents=CHUNK_DOCUMENTS,
                    instances_per_shard=1000)
    settings.update(kwargs)
    return create_pretraining_data(source, out, tokenizer, **settings)


@pytest.fixture(scope='module')
def tokenizer(nsmc_vocab):
    return nsmc_vocab.tokenizer()


@pytest.fixture(scope='module')
def reviews(nsmc_train_slice):
    return TextSource([nsmc_train_slice], column='document')


@pytest.fixture(scope='module')
def review_data(reviews, tokenizer, tmp_path_factory):
    return _create(reviews, tmp_path_factory.mktemp('data') / 'reviews', tokenizer, OPTIONS)


@pytest.fixture(scope='module')
def short_wwm_data(reviews, tokenizer, tmp_path_factory):
    return _create(reviews, tmp_path_factory.mktemp('data') / 'wwm', tokenizer, SHORT_WWM_OPTIONS)


@pytest.fixture(scope='module')
def documents_file(nsmc_train_slice, tmp_path_factory):
    """BERT's input format made from real text: every multi-sentence review is a document."""
    path = tmp_path_factory.mktemp('docs') / 'documents.txt'
    with path.open('w', encoding='utf-8') as out:
        for review in TextSource([nsmc_train_slice], column='document').lines():
            sentences = split_sentences(review)
            if len(sentences) >= 2:
                out.write('\n'.join(sentences) + '\n\n')
    return path


def _rows(data):
    """(chunk index, arrays of one instance) for every instance, shard by shard."""
    for path in data.shard_paths:
        chunk = int(path.name.split('-')[1])
        arrays = PretrainingShardDataset(path).arrays
        for row in range(len(arrays['valid_lengths'])):
            yield chunk, {name: values[row] for name, values in arrays.items()}


def _all(data, field):
    return np.concatenate([PretrainingShardDataset(p).arrays[field] for p in data.shard_paths])


def _ids(vocab):
    return vocab['[CLS]'], vocab['[SEP]'], vocab['[PAD]'], vocab['[MASK]']


def _restored(instance):
    """The sequence before masking: the labels put back at the masked positions."""
    valid = int(instance['valid_lengths'])
    tokens = instance['input_ids'][:valid].astype(np.int64)
    count = int(instance['masked_lm_weights'].sum())
    tokens[instance['masked_lm_positions'][:count]] = instance['masked_lm_ids'][:count]
    return tokens


def _text(ids):
    return ''.join(chr(int(i) + 1) for i in ids)  # ids as characters, so str.find locates token runs


def test_sequences_are_cls_a_sep_b_sep_with_bert_segment_ids_and_padding(review_data, tokenizer):
    cls_id, sep_id, pad_id, _ = _ids(tokenizer.vocab)
    count = 0
    for _, instance in _rows(review_data):
        count += 1
        ids, segments, valid = instance['input_ids'], instance['segment_ids'], int(instance['valid_lengths'])
        assert 5 <= valid <= 128 and ids.shape == (128,)
        assert ids[0] == cls_id and ids[valid - 1] == sep_id
        seps = np.flatnonzero(ids[:valid] == sep_id)
        assert len(seps) == 2  # a [SEP] is never masked and never inserted as a random token
        first_sep = seps[0]
        assert 1 < first_sep < valid - 2  # A and B both non-empty
        assert (segments[:first_sep + 1] == 0).all() and (segments[first_sep + 1:valid] == 1).all()
        assert (segments[valid:] == 0).all() and (ids[valid:] == pad_id).all()
    assert count == review_data.num_instances > 2000 * OPTIONS.dupe_factor


def test_mask_count_follows_masked_lm_prob_and_never_touches_cls_sep_or_padding(review_data, tokenizer):
    cls_id, sep_id, pad_id, _ = _ids(tokenizer.vocab)
    masked_total = token_total = 0
    for _, instance in _rows(review_data):
        valid = int(instance['valid_lengths'])
        count = int(instance['masked_lm_weights'].sum())
        assert count == min(20, max(1, int(round(valid * 0.15))))
        assert (instance['masked_lm_weights'][:count] == 1).all() and (instance['masked_lm_weights'][count:] == 0).all()
        positions = instance['masked_lm_positions'][:count]
        assert (np.diff(positions.astype(int)) > 0).all()
        assert positions.min() >= 1 and positions.max() <= valid - 2
        original = _restored(instance)
        assert not np.isin(original[positions], [cls_id, sep_id, pad_id]).any()
        assert (instance['masked_lm_positions'][count:] == 0).all() and (instance['masked_lm_ids'][count:] == 0).all()
        masked_total += count
        token_total += valid
    assert 0.14 < masked_total / token_total < 0.16
    assert review_data.manifest['stats'] == {'tokens': token_total, 'masked_tokens': masked_total,
                                             'random_next': int(_all(review_data, 'next_sentence_labels').sum())}


def test_masked_positions_are_replaced_80_10_10(review_data, tokenizer):
    vocab = tokenizer.vocab
    specials = [vocab[t] for t in ('[UNK]', '[PAD]', '[CLS]', '[SEP]', '[MASK]')]
    outcome = Counter()
    for _, instance in _rows(review_data):
        count = int(instance['masked_lm_weights'].sum())
        shown = instance['input_ids'][instance['masked_lm_positions'][:count]]
        labels = instance['masked_lm_ids'][:count]
        for seen, label in zip(shown, labels):
            if seen == vocab['[MASK]']:
                outcome['mask'] += 1
            elif seen == label:
                outcome['kept'] += 1
            else:
                outcome['random'] += 1
                assert seen not in specials
    total = sum(outcome.values())
    assert total > 10000
    assert 0.78 < outcome['mask'] / total < 0.82
    assert 0.085 < outcome['kept'] / total < 0.115
    assert 0.085 < outcome['random'] / total < 0.115


def _assert_segments_are_real_text_from_their_chunk(data, source, tokenizer, max_num_tokens):
    """Labels are the original ids: with them restored, A and B are runs of tokens of documents of the
    instance's own chunk (random B never comes from elsewhere), and an untruncated actual-next pair is one run."""
    documents = list(read_documents(source, 'lines'))
    chunk_texts = {}
    for start in range(0, len(documents), CHUNK_DOCUMENTS):
        texts = []
        for document in documents[start:start + CHUNK_DOCUMENTS]:
            ids = [i for sentence in document for i in tokenizer.convert_tokens_to_ids(tokenizer(sentence))]
            texts.append(_text(ids))
        chunk_texts[start // CHUNK_DOCUMENTS] = '\uffff'.join(texts)
    _, sep_id, _, mask_id = _ids(tokenizer.vocab)
    checked_next = 0
    for chunk, instance in _rows(data):
        tokens = _restored(instance)
        assert mask_id not in tokens
        first_sep = int(np.flatnonzero(tokens == sep_id)[0])
        tokens_a, tokens_b = tokens[1:first_sep], tokens[first_sep + 1:-1]
        assert _text(tokens_a) in chunk_texts[chunk]
        assert _text(tokens_b) in chunk_texts[chunk]
        if not instance['next_sentence_labels'] and len(tokens_a) + len(tokens_b) < max_num_tokens:
            assert _text(np.concatenate([tokens_a, tokens_b])) in chunk_texts[chunk]
            checked_next += 1
    assert checked_next > 100


def test_labels_restore_real_text_and_random_b_comes_from_the_same_chunk(review_data, reviews, tokenizer):
    assert len(review_data.shard_paths) > 2000 // CHUNK_DOCUMENTS  # several chunks, some cut into parts
    _assert_segments_are_real_text_from_their_chunk(review_data, reviews, tokenizer, OPTIONS.max_seq_length - 3)


def test_truncation_keeps_short_sequences_contiguous(short_wwm_data, reviews, tokenizer):
    assert int(_all(short_wwm_data, 'valid_lengths').max()) == 24  # long reviews were truncated to fit
    _assert_segments_are_real_text_from_their_chunk(short_wwm_data, reviews, tokenizer, 24 - 3)


def test_truncate_seq_pair_trims_the_longer_side_at_random_ends():
    tokens_a, tokens_b = list(range(60)), list(range(100, 110))
    truncate_seq_pair(tokens_a, tokens_b, 40, random.Random(0))
    assert len(tokens_a) == 30 and tokens_b == list(range(100, 110))  # B was never the longer one
    assert tokens_a == list(range(tokens_a[0], tokens_a[0] + 30))
    assert 0 < tokens_a[0] and tokens_a[-1] < 59  # both ends lost tokens
    tokens_a, tokens_b = list(range(30)), list(range(100, 130))
    truncate_seq_pair(tokens_a, tokens_b, 40, random.Random(0))
    assert len(tokens_a) == len(tokens_b) == 20  # equal lengths: trimmed in turn


def _words(tokens, starts_word, cls_id, sep_id):
    """Lists of positions, one per SentencePiece word (a ▁ piece and the pieces after it)."""
    words, current = [], None
    for position, token in enumerate(tokens):
        if token in (cls_id, sep_id):
            current = None
            continue
        if current is None or starts_word[token]:
            current = [position]
            words.append(current)
        else:
            current.append(position)
    return words


def _partially_masked_words(data, tokenizer):
    vocab = tokenizer.vocab
    starts_word = [t.startswith('▁') or t == '[UNK]' for t in vocab.idx_to_token]
    cls_id, sep_id, _, _ = _ids(vocab)
    partial = masked_words = 0
    for _, instance in _rows(data):
        count = int(instance['masked_lm_weights'].sum())
        masked = set(instance['masked_lm_positions'][:count].tolist())
        for word in _words(_restored(instance), starts_word, cls_id, sep_id):
            hit = masked.intersection(word)
            if hit:
                masked_words += 1
                partial += len(hit) != len(word)
    return partial, masked_words


def test_whole_word_masking_masks_every_piece_of_a_word(short_wwm_data, review_data, tokenizer):
    partial, masked_words = _partially_masked_words(short_wwm_data, tokenizer)
    assert masked_words > 5000 and partial == 0
    counts = _all(short_wwm_data, 'masked_lm_weights').sum(axis=1)
    allowed = np.minimum(5, np.maximum(1, np.round(_all(short_wwm_data, 'valid_lengths') * 0.15)))
    assert (counts <= allowed).all()
    # A whole word that does not fit the budget is skipped, never cut; only a sequence made of such long
    # words (an unspaced review) ends up with nothing masked.
    assert (counts == allowed).mean() > 0.8 and (counts == 0).mean() < 0.02
    # Without the option words are cut: the check above does see the difference.
    partial, masked_words = _partially_masked_words(review_data, tokenizer)
    assert partial > 0.1 * masked_words


def test_next_sentence_labels_are_balanced(review_data, documents_file, tokenizer, tmp_path):
    # Reviews: one-word reviews can only get a random B, so a little over half (54 % on NSMC train).
    assert 0.48 < _all(review_data, 'next_sentence_labels').mean() < 0.58
    documents = create_pretraining_data([documents_file], tmp_path / 'docs', tokenizer, input_format='documents',
                                        options=OPTIONS, random_seed=3)
    assert documents.num_instances > 1000
    assert 0.46 < _all(documents, 'next_sentence_labels').mean() < 0.54


def test_same_seed_gives_identical_shards_with_any_number_of_workers(reviews, tokenizer, review_data, tmp_path):
    again = _create(reviews, tmp_path / 'two-workers', tokenizer, OPTIONS, workers=2)
    assert [p.name for p in again.shard_paths] == [p.name for p in review_data.shard_paths]
    for mine, theirs in zip(again.shard_paths, review_data.shard_paths):
        assert mine.read_bytes() == theirs.read_bytes()
    assert (again.folder / 'manifest.json').read_bytes() == (review_data.folder / 'manifest.json').read_bytes()
    other = _create(reviews, tmp_path / 'other-seed', tokenizer, OPTIONS, random_seed=2)
    assert not np.array_equal(_all(other, 'input_ids')[:100], _all(review_data, 'input_ids')[:100])


def test_shards_read_back_as_gluon_datasets(review_data, nsmc_vocab):
    data = PretrainingData(review_data.folder)
    data.check_vocab(nsmc_vocab.vocab())
    with pytest.raises(ValueError, match='another vocabulary'):
        data.check_vocab(nlp.vocab.BERTVocab(Counter(['가', '나'])))
    shard = next(data.shards())
    item = shard[0]
    assert [a.dtype for a in item] == [np.int32] * 5 + [np.float32, np.int32]
    batch = next(iter(mx.gluon.data.DataLoader(shard, batch_size=8)))
    assert [tuple(a.shape) for a in batch] == [(8, 128), (8, 128), (8,), (8, 20), (8, 20), (8, 20), (8,)]
    parts = [[s.path for s in data.shards(shuffle=True, seed=5, num_parts=2, part_index=i)] for i in (0, 1)]
    assert sorted(parts[0] + parts[1]) == sorted(data.shard_paths) and not set(parts[0]) & set(parts[1])
    assert sum(len(s) for s in data.shards()) == len(data) == data.manifest['num_instances']


def test_reviews_become_sentence_documents():
    assert split_sentences('아 더빙.. 진짜 짜증나네요 목소리') == ['아 더빙..', '진짜 짜증나네요 목소리']
    assert split_sentences('평점 3.5점은 너무해!!진짜?') == ['평점 3.5점은 너무해!!', '진짜?']
    assert text_to_segments('액션이 없는데도 재미 있는 몇안되는 영화') == ['액션이 없는데도 재미', '있는 몇안되는 영화']
    assert text_to_segments('액션이 없는데도 재미 있는 몇안되는 영화', halve_single_sentences=False) == \
        ['액션이 없는데도 재미 있는 몇안되는 영화']
    assert text_to_segments('너무재밓었다그래서보는것을추천한다') == ['너무재밓었다그래서보는것을추천한다']


def test_cli_creates_data_and_refuses_a_non_empty_out_folder(nsmc_test_slice, nsmc_vocab, tmp_path, capsys):
    out = tmp_path / 'data'
    args = ['create-pretraining-data', '--input', str(nsmc_test_slice), '--column', 'document',
            '--input-format', 'lines', '--vocab', str(nsmc_vocab.folder), '--out', str(out), '--dupe-factor', '1',
            '--max-seq-length', '64', '--do-whole-word-mask']
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert '1,000 documents ->' in printed
    data = PretrainingData(out)
    assert data.options.max_seq_length == 64 and data.options.do_whole_word_mask
    assert data.manifest['input']['column'] == 'document' and data.manifest['num_documents'] == 1000
    assert main(args) == 2
    assert 'already exists and is not empty' in capsys.readouterr().err
    assert main(args + ['--overwrite', '--max-seq-length', '3']) == 2
    assert 'max_seq_length must be >= 5' in capsys.readouterr().err
    assert PretrainingData(out).options.max_seq_length == 64  # the failed run left the folder alone
