"""Encoding, length-bucketed batch order, and DataLoader workers."""
import numpy as np
import pytest

from kobert_gluon import BucketBatchSampler, KoBERTTokenizer, TextBatches

LENGTHS = np.random.RandomState(0).randint(3, 60, size=203)


def test_each_epoch_uses_every_example_once_in_a_seeded_order():
    sampler = BucketBatchSampler(LENGTHS, batch_size=16, shuffle=True, seed=5)
    epoch0 = sampler.epoch_batches(0)
    assert sorted(np.concatenate(epoch0).tolist()) == list(range(len(LENGTHS)))
    assert len(epoch0) == 13 and sorted(len(b) for b in epoch0)[0] == 203 % 16
    again = BucketBatchSampler(LENGTHS, batch_size=16, shuffle=True, seed=5).epoch_batches(0)
    assert all(np.array_equal(a, b) for a, b in zip(epoch0, again))
    assert sampler.fingerprint(0) == BucketBatchSampler(LENGTHS, 16, True, seed=5).fingerprint(0)
    assert sampler.fingerprint(1) != sampler.fingerprint(0)
    assert sampler.fingerprint(0) != BucketBatchSampler(LENGTHS, 16, True, seed=6).fingerprint(0)


def test_bucketing_cuts_padding():
    def padding(sampler):
        batches = sampler.epoch_batches(0)
        return sum(LENGTHS[b].max() * len(b) - LENGTHS[b].sum() for b in batches)
    bucketed = padding(BucketBatchSampler(LENGTHS, 16, True, seed=1, bucket_window=50))
    unbucketed = padding(BucketBatchSampler(LENGTHS, 16, True, seed=1, bucket_window=1))
    assert bucketed < 0.3 * unbucketed


def test_evaluation_order_is_sorted_and_fixed():
    batches = BucketBatchSampler(LENGTHS, 16, shuffle=False).epoch_batches(3)
    flat = np.concatenate(batches)
    assert np.all(np.diff(LENGTHS[flat]) >= 0)


def test_shards_split_every_global_batch_and_see_each_example_once():
    whole = BucketBatchSampler(LENGTHS, 15, True, seed=2).epoch_batches(0)
    samplers = [BucketBatchSampler(LENGTHS, 15, True, seed=2, num_shards=3, shard=i) for i in range(3)]
    shards = [sampler.epoch_batches(0) for sampler in samplers]
    assert [len(s) for s in shards] == [len(whole)] * 3  # the same steps as one process
    for step, batch in enumerate(whole):
        parts = [s[step] for s in shards]
        counts = [sampler.shares(0)[step] for sampler in samplers]
        assert all(total == len(batch) for _, total in counts)
        real = [part for part, (n, _) in zip(parts, counts) if n]  # a 0 share is a stand-in, weighted 0
        assert sorted(np.concatenate(real).tolist()) == sorted(batch.tolist())
        assert max(len(p) for p in real) - min(len(p) for p in real) <= 1
    seen = np.concatenate([part for s, sampler in zip(shards, samplers)
                           for part, (n, _) in zip(s, sampler.shares(0)) if n])
    assert len(set(seen.tolist())) == len(seen) == len(LENGTHS)


@pytest.fixture
def tokenizer():
    return KoBERTTokenizer.from_pretrained('kobert-mini')  # ships in the package: no download


TEXTS = [('정말 재미있는 영화였어요',), ('최악',), ('배우들의 연기가 훌륭하고 음악도 좋았다',),
         ('그냥 그랬다',), ('다시 보고 싶다',), ('지루해서 잤다',), ('감동',)] * 3


def test_batches_are_padded_pairs_with_token_types(tokenizer):
    texts = [('질문 하나', '아주 긴 두번째 질문입니다')] * 2 + [('짧은', '질문')]
    data = TextBatches.from_texts(texts, [1.5, 0.5, 2.0], tokenizer, 32, pair=True, batch_size=8, shuffle=False,
                                  label_dtype='float32')
    (input_ids, valid_length, token_types, labels), = list(data.batches(0))
    order = data.batch_indices(0)[0]
    assert input_ids.shape[0] == 3 and labels.asnumpy().tolist() == [[1.5, 0.5, 2.0][i] for i in order]
    longest = int(valid_length.max().asscalar())
    assert input_ids.shape[1] == longest
    short = int(np.argmin(valid_length.asnumpy()))
    n = int(valid_length[short].asscalar())
    ids = input_ids[short].asnumpy()
    assert ids[0] == tokenizer.vocab['[CLS]'] and ids[n - 1] == tokenizer.vocab['[SEP]']
    assert np.all(ids[n:] == tokenizer.vocab['[PAD]'])
    types = token_types[short].asnumpy()[:n]
    assert types[0] == 0 and types[-1] == 1  # the second sentence is segment 1


def test_resume_start_skips_batches(tokenizer):
    data = TextBatches.from_texts(TEXTS, list(range(len(TEXTS))), tokenizer, 16, False, 4, shuffle=True, seed=3)
    full = [b[3].asnumpy().tolist() for b in data.batches(2)]
    tail = [b[3].asnumpy().tolist() for b in data.batches(2, start=3)]
    assert tail == full[3:] and len(full) == data.num_batches(2) == 6


def test_dataloader_workers_give_identical_batches(tokenizer):
    labels = list(range(len(TEXTS)))
    plain = TextBatches.from_texts(TEXTS, labels, tokenizer, 16, False, 4, shuffle=True, seed=1)
    workers = TextBatches.from_texts(TEXTS, labels, tokenizer, 16, False, 4, shuffle=True, seed=1, num_workers=2)
    for epoch in (0, 1):  # the worker pool is reused across epochs
        a = [[x.asnumpy() for x in batch] for batch in plain.batches(epoch)]
        b = [[x.asnumpy() for x in batch] for batch in workers.batches(epoch)]
        assert len(a) == len(b) == 6
        for batch_a, batch_b in zip(a, b):
            for x, y in zip(batch_a, batch_b):
                np.testing.assert_array_equal(x, y)


def test_batches_without_workers_make_no_dataloader(tokenizer, monkeypatch):
    """MXNet's DataLoader runs gc.collect() when it is made (~70 ms in a server's process, paid by every predict
    call): batches without workers are padded without one."""
    import gc
    collected = []
    monkeypatch.setattr(gc, 'collect', lambda *args: collected.append(args) or 0)
    data = TextBatches.from_texts(TEXTS, None, tokenizer, 16, False, 4, shuffle=False)
    assert len(list(data.batches(0))) == data.num_batches(0) == 6 and collected == []
    TextBatches.from_texts(TEXTS, None, tokenizer, 16, False, 4, shuffle=False, num_workers=1)
    assert collected  # (what the check would see: a DataLoader collects)
