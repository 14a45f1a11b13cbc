"""The processes that train one model together: one process (the default), or the ranks of a Horovod job.

``horovodrun -np N ... kobert-gluon finetune|pretrain|distill ...`` starts N copies of the same command; each finds
out here which rank it is (:func:`from_environment`: Horovod's launcher sets ``HOROVOD_RANK``; only then is
``horovod.mxnet`` imported, so a single process needs no Horovod installed). :class:`Ranks` is everything the
trainer and the data need to know about the others:

* ``rank`` / ``size``, and ``is_writer`` (rank 0: the only one that writes files and logs);
* :meth:`Ranks.broadcast_parameters` -- every rank starts from rank 0's weights;
* :meth:`Ranks.make_optimizer` -- ``hvd.DistributedTrainer``: the gradients are summed over the ranks
  (``allreduce_grads``) and divided by ``size`` when applied, so the trainer clips at ``size`` times the norm;
* :meth:`Ranks.sum` -- floats summed over the ranks (losses, metric sums, the votes that keep decisions agreed:
  stop, interrupt, which dev value is best).

Batches are global: ``--batch-size`` examples per step, split evenly across the ranks (``shard_of``), so N ranks
take the same steps over the same examples as one process. A rank's part of a step is weighted by its share of
the step's examples (:func:`rank_weight`), which keeps the mean exact when the last batch of a bucket does not
split evenly (a rank with no example of a step runs a zero-weight pass so that the all-reduce still meets).
"""
import os
from typing import Dict, List, Sequence

import numpy as np

from ..core.errors import InputError
from ..core.mxnet_stack import mx

__all__ = ['Ranks', 'SINGLE', 'from_environment', 'shard_of', 'rank_weight', 'check_global_batch']


class Ranks:
    """The ranks of a training job (``hvd``: the ``horovod.mxnet`` module, or None for one process)."""

    def __init__(self, rank: int = 0, size: int = 1, hvd=None, local_rank: int = 0, local_size: int = 1):
        if not 0 <= rank < size:
            raise ValueError('rank {} is not in [0, {})'.format(rank, size))
        self.rank, self.size, self._hvd = rank, size, hvd
        # the rank's place among the ranks of its machine: which of the machine's GPUs it takes
        self.local_rank, self.local_size = local_rank, local_size

    @property
    def is_writer(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def broadcast_parameters(self, params) -> None:
        """Every rank takes rank 0's values of ``params`` (a ParameterDict; initialised)."""
        if self.distributed:
            self._hvd.broadcast_parameters(params, root_rank=0)

    def make_optimizer(self, params, config):
        """``hvd.DistributedTrainer`` with the run's optimizer (sums gradients across ranks, applies the mean)."""
        options = dict(config.optimizer_params)
        options.update(learning_rate=config.learning_rate, wd=config.weight_decay)
        return self._hvd.DistributedTrainer(params, config.optimizer, options)

    def sum(self, values: Sequence[float], name: str) -> List[float]:
        """``values`` summed over the ranks (every rank passes the same number of values under the same name)."""
        if not self.distributed:
            return [float(v) for v in values]
        # float64: sums of losses over thousands of examples must not lose the digits the equivalence test checks
        array = mx.nd.array(np.asarray(values, dtype=np.float64), dtype='float64')
        total = self._hvd.allreduce(array, average=False, name=name)
        return [float(v) for v in total.asnumpy()]

    def mean_metrics(self, metrics: Dict[str, float], name: str) -> Dict[str, float]:
        """The float values of ``metrics`` averaged over the ranks (the same keys on every rank), so that every rank
        takes the same decisions from them; other values are kept as they are."""
        keys = sorted(k for k, v in metrics.items() if isinstance(v, float))
        if not self.distributed or not keys:
            return metrics
        totals = self.sum([metrics[k] for k in keys], name)
        averaged = dict(metrics)
        averaged.update({k: total / self.size for k, total in zip(keys, totals)})
        return averaged

    def __repr__(self):
        return 'Ranks(rank={}, size={})'.format(self.rank, self.size)


SINGLE = Ranks()


def from_environment() -> Ranks:
    """This process's place in a Horovod job started by ``horovodrun``, or :data:`SINGLE`."""
    if 'HOROVOD_RANK' not in os.environ:
        return SINGLE
    try:
        import horovod.mxnet as hvd
    except ImportError as err:
        raise InputError('this process was started by horovodrun (HOROVOD_RANK is set) but horovod.mxnet does not '
                         'import ({}); install the [horovod] extra as docs/guides/devices.md ("Many workers") says'
                         .format(err)) from None
    hvd.init()
    return Ranks(hvd.rank(), hvd.size(), hvd, hvd.local_rank(), hvd.local_size())


def check_global_batch(batch_size: int, ranks: Ranks, what: str = '--batch-size') -> int:
    """The examples each rank takes per batch: ``batch_size`` divided by the ranks (a remainder is an error)."""
    if batch_size % ranks.size:
        raise InputError('{} {} is the global batch: it must divide evenly among {} ranks (e.g. {})'
                         .format(what, batch_size, ranks.size, batch_size - batch_size % ranks.size or ranks.size))
    return batch_size // ranks.size


def shard_of(batch: np.ndarray, shard: int, num_shards: int) -> np.ndarray:
    """This rank's examples of a global batch: every ``num_shards``-th (the batch is sorted by length, so each rank
    gets a spread of lengths); empty when the batch has fewer examples than ranks."""
    return np.asarray(batch)[shard::num_shards]


def rank_weight(examples: int, batch_examples: int, num_shards: int) -> float:
    """Factor on a rank's mean loss so that the ranks' average is the mean over the whole global batch."""
    return examples * num_shards / batch_examples
