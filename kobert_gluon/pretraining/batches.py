"""Pretraining shards as the trainer's batches: a dev hold-out, length-bucketed batches, one shard in memory.

* :func:`split_dev_chunks` holds out whole *chunks* of a data folder for evaluation. A chunk's shards hold
  ``dupe_factor`` differently masked copies of the same documents, so holding out single instances (or one
  shard of a chunk) would evaluate on documents the model trained on; a held-out chunk shares none.
* :class:`PretrainingBatches` is the training view (``num_batches``/``batches``/``fingerprint``, see
  trainer.py). An epoch visits the shards in an order drawn from ``(seed, epoch)``; within a shard,
  :class:`~.text_batches.BucketBatchSampler` groups instances of similar ``valid_length`` (NSMC instances
  average ~23 of 128 tokens, so padding to the batch's longest cuts the work several times) in an order drawn
  from ``(seed, epoch, shard)``. Only the current shard is loaded (its numpy arrays, ~10 MB for 26k
  instances of 128 tokens), so memory does not grow with the corpus. With ``num_ranks > 1`` ``batch_size`` is
  the global batch and every rank takes its part of each (see :class:`~kobert_gluon.training.text_batches.
  BucketBatchSampler`): the ranks together take the steps one process would.
* :class:`PretrainingEvalBatches` is the dev view: the first instances of the held-out shards, longest last.

A batch is a tuple of NDArrays in :data:`~.pretraining_data.SHARD_FIELDS` order, cut to the batch's longest
sequence and its largest number of predictions (padding predictions have weight 0).
"""
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import InputError
from ..core.mxnet_stack import mx
from .data import SHARD_FIELDS, TRAINING_DTYPES, PretrainingData, PretrainingShardDataset
from ..training.text_batches import BucketBatchSampler

__all__ = ['ShardFile', 'shard_files', 'split_dev_chunks', 'make_pretraining_batch', 'PretrainingBatches',
           'PretrainingEvalBatches']

_SHARD_NAME = re.compile(r'part-(\d+)-(\d+)\.npz$')


@dataclass(frozen=True)
class ShardFile:
    """One shard of a data folder: its path, instance count and the chunk (group of documents) it came from."""
    path: Path
    instances: int
    chunk: int


def shard_files(data: PretrainingData) -> List[ShardFile]:
    """Every shard of ``data``, in manifest order."""
    files = []
    for entry in data.manifest['shards']:
        match = _SHARD_NAME.search(entry['file'])
        if match is None:
            raise InputError('{}: shard name {!r} does not say its chunk (part-CCCCC-KK.npz)'
                             .format(data.folder, entry['file']))
        files.append(ShardFile(data.folder / entry['file'], int(entry['instances']), int(match.group(1))))
    return files


def split_dev_chunks(data: PretrainingData, dev_chunks: int) -> Tuple[List[ShardFile], List[ShardFile]]:
    """``(training shards, dev shards)``: the last ``dev_chunks`` chunks of ``data`` are held out."""
    files = shard_files(data)
    chunks = sorted({f.chunk for f in files})
    if dev_chunks < 0:
        raise InputError('dev_chunks must be >= 0, got {}'.format(dev_chunks))
    if dev_chunks >= len(chunks):
        raise InputError('{} has {} chunk(s) of documents; holding out {} for dev leaves nothing to train on '
                         '(give a separate dev data folder, or make the data with a smaller --chunk-documents)'
                         .format(data.folder, len(chunks), dev_chunks))
    held_out = set(chunks[len(chunks) - dev_chunks:])
    return [f for f in files if f.chunk not in held_out], [f for f in files if f.chunk in held_out]


def make_pretraining_batch(arrays: Dict[str, np.ndarray], indices, ctx=None) -> Tuple[mx.nd.NDArray, ...]:
    """The instances ``indices`` of a shard's ``arrays`` as NDArrays in training dtypes, trimmed of padding."""
    indices = np.asarray(indices)
    length = int(arrays['valid_lengths'][indices].max())
    # Real predictions come first in every row (the shards 0-pad after them), so counting them gives the cut.
    predictions = max(1, int((arrays['masked_lm_weights'][indices] > 0).sum(axis=1).max()))
    columns = {'input_ids': length, 'segment_ids': length, 'masked_lm_positions': predictions,
               'masked_lm_ids': predictions, 'masked_lm_weights': predictions}
    batch = []
    for name in SHARD_FIELDS:
        values = arrays[name][indices]
        if name in columns:
            values = values[:, :columns[name]]
        # valid_length goes into float arithmetic inside BERTModel's attention mask
        dtype = np.float32 if name == 'valid_lengths' else TRAINING_DTYPES[name]
        batch.append(mx.nd.array(values, ctx=ctx or mx.cpu(), dtype=dtype))
    return tuple(batch)


def _shard_seed(seed: int, shard_index: int) -> int:
    return int(np.random.SeedSequence([seed, shard_index]).generate_state(1)[0])


class PretrainingBatches:
    """Training batches of ``shards`` (one loaded at a time) in an order fixed by ``(seed, epoch)``.

    ``data_digest`` identifies the data's content for :meth:`fingerprint` (the shards are not read for it).
    """

    def __init__(self, shards: Sequence[ShardFile], batch_size: int, seed: int = 0, bucket_window: int = 50,
                 num_ranks: int = 1, rank: int = 0, data_digest: str = '', ctx=None):
        if not shards:
            raise InputError('no training shards')
        if batch_size < 1 or bucket_window < 1:
            raise InputError('batch_size and bucket_window must be positive')
        if not 0 <= rank < num_ranks:
            raise ValueError('rank {} is not in [0, {})'.format(rank, num_ranks))
        self.shards = list(shards)
        self.batch_size, self.seed, self.bucket_window = batch_size, seed, bucket_window
        self.num_ranks, self.rank = num_ranks, rank
        self.data_digest = data_digest
        self.ctx = ctx or mx.cpu()
        self._counts: Dict[int, int] = {}

    def _sampler(self, lengths, shard_index: int) -> BucketBatchSampler:
        return BucketBatchSampler(lengths, self.batch_size, shuffle=True, seed=_shard_seed(self.seed, shard_index),
                                  bucket_window=self.bucket_window, num_shards=self.num_ranks, shard=self.rank)

    def _batch_count(self, instances: int) -> int:
        # Bucketing sorts inside fixed-size windows, so the count depends on the instance count alone.
        if instances not in self._counts:
            self._counts[instances] = self._sampler(np.zeros(instances), 0).num_batches(0)
        return self._counts[instances]

    def shard_order(self, epoch: int) -> List[int]:
        """Indices into ``shards`` in the order ``epoch`` visits them."""
        return [int(i) for i in np.random.default_rng([self.seed, epoch, 1]).permutation(len(self.shards))]

    def num_batches(self, epoch: int = 0) -> int:
        return sum(self._batch_count(shard.instances) for shard in self.shards)

    def __len__(self):
        return sum(shard.instances for shard in self.shards)

    def batch_indices(self, epoch: int) -> Iterator[Tuple[int, np.ndarray]]:
        """``(shard index, instance indices)`` of every batch of ``epoch``, in order (reads each shard)."""
        for shard_index in self.shard_order(epoch):
            lengths = PretrainingShardDataset(self.shards[shard_index].path).arrays['valid_lengths']
            for indices in self._sampler(lengths, shard_index).epoch_batches(epoch):
                yield shard_index, indices

    def batches(self, epoch: int = 0, start: int = 0):
        """The batches of ``epoch`` from the ``start``-th on; shards wholly before ``start`` are not read."""
        for shard_index in self.shard_order(epoch):
            shard = self.shards[shard_index]
            count = self._batch_count(shard.instances)
            if start >= count:
                start -= count
                continue
            arrays = PretrainingShardDataset(shard.path).arrays
            for indices in self._sampler(arrays['valid_lengths'], shard_index).epoch_batches(epoch)[start:]:
                yield make_pretraining_batch(arrays, indices, self.ctx)
            start = 0

    def shares(self, epoch: int) -> List[Tuple[int, int]]:
        """``(this rank's instances, the global batch's)`` per batch of ``epoch`` (reads each shard's lengths)."""
        result: List[Tuple[int, int]] = []
        for shard_index in self.shard_order(epoch):
            lengths = PretrainingShardDataset(self.shards[shard_index].path).arrays['valid_lengths']
            result.extend(self._sampler(lengths, shard_index).shares(epoch))
        return result

    def fingerprint(self, epoch: int) -> str:
        """A digest of what decides ``epoch``'s batches: the data, the shard order and the batching settings."""
        digest = hashlib.sha1(self.data_digest.encode('utf-8'))
        for shard_index in self.shard_order(epoch):
            shard = self.shards[shard_index]
            digest.update('{}:{}|'.format(shard.path.name, shard.instances).encode('utf-8'))
        digest.update(repr((self.batch_size, self.seed, self.bucket_window, self.num_ranks, self.rank,
                            epoch)).encode('utf-8'))
        return digest.hexdigest()[:16]

    def padding_fraction(self, epoch: int = 0, max_shards: Optional[int] = None) -> float:
        """Share of the padded token slots that are padding in ``epoch``'s batches (of the first shards)."""
        real = padded = 0
        for position, shard_index in enumerate(self.shard_order(epoch)):
            if max_shards is not None and position >= max_shards:
                break
            lengths = PretrainingShardDataset(self.shards[shard_index].path).arrays['valid_lengths'].astype(np.int64)
            for indices in self._sampler(lengths, shard_index).epoch_batches(epoch):
                real += int(lengths[indices].sum())
                padded += int(lengths[indices].max()) * len(indices)
        return 1.0 - real / max(1, padded)


class PretrainingEvalBatches:
    """Dev batches: up to ``max_instances`` instances from the start of ``shards``, sorted by length.

    The shards' instances are already shuffled within their chunk, so their first instances are a fair sample.
    """

    def __init__(self, shards: Sequence[ShardFile], batch_size: int, max_instances: Optional[int] = None, ctx=None):
        if not shards:
            raise InputError('no dev shards')
        parts: Dict[str, List[np.ndarray]] = {name: [] for name in SHARD_FIELDS}
        remaining = max_instances if max_instances is not None else sum(s.instances for s in shards)
        for shard in shards:
            if remaining <= 0:
                break
            arrays = PretrainingShardDataset(shard.path).arrays
            for name in SHARD_FIELDS:
                parts[name].append(arrays[name][:remaining])
            remaining -= len(arrays['valid_lengths'][:remaining])
        self.arrays = {name: np.concatenate(values) for name, values in parts.items()}
        self.shards = list(shards)
        self.ctx = ctx or mx.cpu()
        self._sampler = BucketBatchSampler(self.arrays['valid_lengths'], batch_size, shuffle=False)

    def __len__(self):
        return len(self.arrays['valid_lengths'])

    def batches(self):
        for indices in self._sampler.epoch_batches(0):
            yield make_pretraining_batch(self.arrays, indices, self.ctx)
