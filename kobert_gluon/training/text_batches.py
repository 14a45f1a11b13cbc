"""From labeled text to padded batches: encoding, length-bucketed batch order, and the DataLoader.

Texts are encoded once with GluonNLP's ``BERTSentenceTransform`` (single sentences or pairs, unpadded), so
every epoch reuses the token ids and the exact lengths are known for bucketing. :class:`BucketBatchSampler`
groups examples of similar length, which cuts padding, and makes each epoch's order a pure function of
``(seed, epoch)``: a resumed run sees exactly the batches the interrupted run would have seen, and can start
in the middle of an epoch. :class:`TextBatches` is the trainer's view of the data (``num_batches(epoch)``,
``batches(epoch, start)``, ``fingerprint(epoch)``); padding runs in DataLoader workers when
``num_workers > 0``.
"""
import contextlib
import hashlib
import signal
import threading
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import InputError
from ..core.mxnet_stack import gluon, nlp
from .distributed import shard_of

__all__ = ['encode_table', 'BucketBatchSampler', 'TextBatches', 'make_batchify', 'BatchesBeside']


def encode_table(texts: Sequence[Sequence[str]], tokenizer, max_seq_length: int, pair: bool,
                 labels: Optional[Sequence] = None) -> gluon.data.SimpleDataset:
    """Encode examples as ``(input_ids, valid_length, token_type_ids, label)`` numpy arrays, unpadded.

    ``texts[i]`` is ``(text,)`` or ``(text_a, text_b)``; ``labels[i]`` a class index or a score. Without
    labels (prediction) the label slot holds 0 so every batch has the same structure.
    """
    if max_seq_length < (3 if pair else 2):
        raise InputError('max_seq_length {} leaves no room for the text after [CLS] and [SEP]'
                         .format(max_seq_length))
    if hasattr(tokenizer, 'transform'):  # the package's tokenizer kinds own their special-token layout
        transform = tokenizer.transform(max_seq_length, pair=pair, pad=False)
    else:  # a plain gluonnlp tokenizer: BERT's layout
        transform = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=max_seq_length, pad=False, pair=pair)
    if labels is not None and len(labels) != len(texts):
        raise ValueError('{} texts but {} labels'.format(len(texts), len(labels)))
    encoded = []
    for i, sample in enumerate(texts):
        if len(sample) != (2 if pair else 1):
            raise InputError('example {} has {} texts, expected {}'.format(i, len(sample), 2 if pair else 1))
        input_ids, valid_length, token_types = transform(tuple(sample))
        encoded.append((input_ids, valid_length, token_types, labels[i] if labels is not None else 0))
    return gluon.data.SimpleDataset(encoded)


def make_batchify(pad_id: int, label_dtype: str, label_padding: Optional[int] = None):
    """Pad ids with ``[PAD]`` and token types with 0 to the longest example of the batch. Labels are stacked (one
    per example, or a fixed-size array such as an answer's start and end), or, with ``label_padding``, one per
    position padded with that value (token classification)."""
    labels = (nlp.data.batchify.Stack(dtype=label_dtype) if label_padding is None else
              nlp.data.batchify.Pad(axis=0, pad_val=label_padding, ret_length=False, dtype=label_dtype))
    return nlp.data.batchify.Tuple(nlp.data.batchify.Pad(axis=0, pad_val=pad_id, ret_length=False, dtype='int32'),
                          nlp.data.batchify.Stack(dtype='float32'),
                          nlp.data.batchify.Pad(axis=0, pad_val=0, ret_length=False, dtype='int32'),
                          labels)


class BucketBatchSampler:
    """Batches of similar-length examples in an order fixed by ``(seed, epoch)``.

    Shuffled: the examples are permuted, cut into windows of ``batch_size * bucket_window`` examples, each
    window is sorted by length and cut into batches, and the batches are permuted. A larger window pads less
    but mixes less. Not shuffled (evaluation): all examples sorted by length, longest-last. With
    ``num_shards > 1`` (data-parallel training: one shard per rank) ``batch_size`` is the global batch: every
    shard makes the same global batches and takes its part of each (every ``num_shards``-th example, see
    :func:`~.distributed.shard_of`), so all shards take the same steps over the examples one process would, each
    example once. A part with no example (a global batch smaller than the number of shards) is the global
    batch's first example as a stand-in, which :meth:`shares` marks as having 0 examples: the trainer weights it 0.
    """

    def __init__(self, lengths, batch_size: int, shuffle: bool, seed: int = 0, bucket_window: int = 50,
                 num_shards: int = 1, shard: int = 0):
        if batch_size < 1:
            raise InputError('batch_size must be positive, got {}'.format(batch_size))
        if not 0 <= shard < num_shards:
            raise ValueError('shard {} is not in [0, {})'.format(shard, num_shards))
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if len(self.lengths) == 0:
            raise InputError('no examples to batch')
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.bucket_window = bucket_window
        self.num_shards = num_shards
        self.shard = shard

    def epoch_batches(self, epoch: int) -> List[np.ndarray]:
        """This shard's batches (arrays of example indices) for ``epoch``: its part of every global batch."""
        batches = self.global_batches(epoch)
        if self.num_shards == 1:
            return batches
        parts = []
        for batch in batches:
            part = shard_of(batch, self.shard, self.num_shards)
            parts.append(part if len(part) else batch[:1])
        return parts

    def shares(self, epoch: int) -> List[Tuple[int, int]]:
        """``(examples of this shard, examples of the global batch)`` for each batch of ``epoch``."""
        return [(len(shard_of(batch, self.shard, self.num_shards)), len(batch)) for batch in self.global_batches(epoch)]

    def global_batches(self, epoch: int) -> List[np.ndarray]:
        """The global batches of ``epoch`` (what one process trains on)."""
        n = len(self.lengths)
        if self.shuffle:
            rng = np.random.default_rng([self.seed, epoch])
            order = rng.permutation(n)
            window = self.batch_size * self.bucket_window
        else:
            rng, order, window = None, np.arange(n), n
        batches = []
        for start in range(0, n, window):
            chunk = order[start:start + window]
            chunk = chunk[np.argsort(self.lengths[chunk], kind='stable')]
            batches.extend(chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def num_batches(self, epoch: int = 0) -> int:
        return len(self.epoch_batches(epoch))

    def fingerprint(self, epoch: int) -> str:
        """A short digest of the epoch's batch order; a resumed run checks it to refuse changed data."""
        digest = hashlib.sha1()
        for batch in self.epoch_batches(epoch):
            digest.update(np.asarray(batch, dtype=np.int64).tobytes())
            digest.update(b'|')
        return digest.hexdigest()[:16]


class _EpochBatchOrder:
    """The ``batch_sampler`` handed to the DataLoader once; the trainer points it at an epoch and a start."""

    def __init__(self, sampler: BucketBatchSampler):
        self._sampler = sampler
        self._batches: List[np.ndarray] = []

    def set_epoch(self, epoch: int, start: int = 0):
        self._batches = self._sampler.epoch_batches(epoch)[start:]

    def __iter__(self):
        return (batch.tolist() for batch in self._batches)

    def __len__(self):
        return len(self._batches)


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Worker processes forked inside this block ignore SIGINT.

    Ctrl-C reaches every process of the terminal's foreground group: a worker that died of it would take its
    batch with it and hang the trainer, which instead finishes its step and writes a checkpoint on Ctrl-C.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class TextBatches:
    """Padded batches ``(input_ids, valid_length, token_type_ids, label)`` of an encoded dataset, per epoch.

    With ``num_workers > 0`` one DataLoader is created up front (its worker processes live as long as this object),
    and each call to :meth:`batches` re-targets its batch order, so the pool starts only once; without workers the
    batches are padded here, as the DataLoader would, without creating one (its constructor collects garbage).
    """

    def __init__(self, encoded: gluon.data.SimpleDataset, sampler: BucketBatchSampler, pad_id: int, label_dtype: str,
                 num_workers: int = 0, label_padding: Optional[int] = None):
        if num_workers < 0:
            raise InputError('num_workers must be >= 0, got {}'.format(num_workers))
        self.encoded = encoded
        self.sampler = sampler
        self._order = _EpochBatchOrder(sampler)
        self._batchify = make_batchify(pad_id, label_dtype, label_padding)
        if num_workers == 0:
            # MXNet's DataLoader runs a full gc.collect() in its constructor: in a process holding a server and a
            # model that is ~70 ms, more than a kobert-mini batch takes, paid by every predict call. Without workers
            # it would only pad batches in this process, which batches() does itself.
            self._loader = None
            return
        # thread_pool=False: worker *processes*; batchify is numpy work that would hold the GIL in threads.
        with _workers_ignore_ctrl_c():
            self._loader = gluon.data.DataLoader(encoded, batch_sampler=self._order, batchify_fn=self._batchify,
                                                 num_workers=num_workers)

    @classmethod
    def from_texts(cls, texts, labels, tokenizer, max_seq_length: int, pair: bool, batch_size: int,
                   shuffle: bool, seed: int = 0, label_dtype: str = 'int32', num_workers: int = 0,
                   bucket_window: int = 50, num_shards: int = 1, shard: int = 0) -> 'TextBatches':
        encoded = encode_table(texts, tokenizer, max_seq_length, pair, labels)
        return cls.from_encoded(encoded, tokenizer.vocab, batch_size, shuffle, seed=seed, label_dtype=label_dtype,
                                num_workers=num_workers, bucket_window=bucket_window, num_shards=num_shards,
                                shard=shard)

    @classmethod
    def from_encoded(cls, encoded, vocab, batch_size: int, shuffle: bool, seed: int = 0, label_dtype: str = 'int32',
                     num_workers: int = 0, bucket_window: int = 50, num_shards: int = 1, shard: int = 0,
                     label_padding: Optional[int] = None) -> 'TextBatches':
        """Batches of examples already encoded as ``(input_ids, valid_length, token_type_ids, label)`` (the label
        one per position with ``label_padding``: tokens, or a fixed-size array: answer spans)."""
        encoded = encoded if isinstance(encoded, gluon.data.SimpleDataset) else gluon.data.SimpleDataset(list(encoded))
        lengths = [int(example[1]) for example in encoded]
        sampler = BucketBatchSampler(lengths, batch_size, shuffle, seed=seed, bucket_window=bucket_window,
                                     num_shards=num_shards, shard=shard)
        return cls(encoded, sampler, vocab[vocab.padding_token], label_dtype, num_workers=num_workers,
                   label_padding=label_padding)

    def __len__(self):
        return len(self.encoded)

    def num_batches(self, epoch: int = 0) -> int:
        return self.sampler.num_batches(epoch)

    def batch_indices(self, epoch: int = 0) -> List[np.ndarray]:
        """Example indices of each batch of ``epoch``, in the order :meth:`batches` yields them."""
        return self.sampler.epoch_batches(epoch)

    def batches(self, epoch: int = 0, start: int = 0):
        """Iterate the batches of ``epoch``, skipping the first ``start`` (a run resumed mid-epoch)."""
        self._order.set_epoch(epoch, start)
        if self._loader is None:
            return (self._batchify([self.encoded[i] for i in indices]) for indices in self._order)
        return iter(self._loader)

    def fingerprint(self, epoch: int) -> str:
        return self.sampler.fingerprint(epoch)

    def shares(self, epoch: int) -> List[Tuple[int, int]]:
        """``(this rank's examples, the global batch's)`` per batch of ``epoch`` (data-parallel training)."""
        return self.sampler.shares(epoch)

    def padding_fraction(self, epoch: int = 0) -> float:
        """Share of the padded tokens that are ``[PAD]`` in ``epoch``'s batches (what bucketing saves)."""
        lengths = self.sampler.lengths
        real = padded = 0
        for batch in self.sampler.epoch_batches(epoch):
            real += int(lengths[batch].sum())
            padded += int(lengths[batch].max()) * len(batch)
        return 1.0 - real / padded


class BatchesBeside:
    """The trainer's data protocol delegated to ``self.text_batches`` (a :class:`TextBatches`), for a structure
    that keeps beside its batches what its task scores with (the pieces' spans, the gold entities, the windows)."""
    text_batches: TextBatches

    def num_batches(self, epoch: int = 0) -> int:
        return self.text_batches.num_batches(epoch)

    def batches(self, epoch: int = 0, start: int = 0):
        return self.text_batches.batches(epoch, start)

    def batch_indices(self, epoch: int = 0) -> List[np.ndarray]:
        return self.text_batches.batch_indices(epoch)

    def fingerprint(self, epoch: int) -> str:
        return self.text_batches.fingerprint(epoch)

    def shares(self, epoch: int) -> List[Tuple[int, int]]:
        return self.text_batches.shares(epoch)

    def padding_fraction(self, epoch: int = 0) -> float:
        return self.text_batches.padding_fraction(epoch)
