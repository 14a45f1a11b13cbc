"""Where a training job computes: its devices and its precision, resolved once for fine-tuning, pretraining and
distillation alike.

:func:`place_training` reads the ``device=`` argument (``'cpu'``, ``'gpu:0,1'``, contexts: see
:mod:`kobert_gluon.core.devices`), gives a Horovod rank its one device (``hvd.local_rank()``: one rank per GPU), and
checks and prepares the precision (float16 turns on MXNet's AMP, which must happen before the model is built).
The entry points build their model on :attr:`Placement.first` and hand :attr:`Placement.contexts` to the
:class:`~.trainer.Trainer`, which copies the weights to every device and splits each batch across them.
"""
from dataclasses import dataclass
from typing import List

from ..core import environment  # noqa: F401  (first: numpy check, mxnet without onnx, the gluonnlp fix)
import mxnet as mx

from ..core.devices import describe_devices, for_rank, parse_devices
from .distributed import SINGLE, Ranks
from .precision import prepare_precision

__all__ = ['Placement', 'place_training']


@dataclass(frozen=True)
class Placement:
    contexts: List[mx.Context]
    dtype: str = 'float32'

    @property
    def first(self) -> mx.Context:
        """Where the model is built, evaluated and read from."""
        return self.contexts[0]

    def describe(self) -> str:
        return '{} in {}'.format(describe_devices(self.contexts), self.dtype)


def place_training(device=None, dtype: str = 'float32', ranks: Ranks = SINGLE) -> Placement:
    """The devices and precision of this process's part of a training job (see the module docstring)."""
    contexts = parse_devices(device)
    if ranks.distributed:
        contexts = for_rank(contexts, ranks.local_rank, ranks.local_size)
    return Placement(contexts, prepare_precision(dtype, contexts))
