"""Where a training job computes: its devices and its precision, resolved once for fine-tuning, pretraining and
distillation alike.

:func:`place_training` reads the ``device=`` argument (``'cpu'``, ``'gpu:0,1'``, contexts: see
:mod:`kobert_gluon.core.devices`), gives a Horovod rank its one device (``hvd.local_rank()``: one rank per GPU), and
checks the precision on them and turns it on (float16 and bfloat16 are MXNet's AMP, which must be on before the
model is built: see :mod:`.precision`). It is the one place a training job's ``device`` and ``dtype`` are read and
checked: the entry points build their model on :attr:`Placement.first` and hand the :class:`Placement` itself to
the :class:`~.trainer.Trainer`, which copies the weights to every device and splits each batch across them.
"""
from dataclasses import dataclass
from typing import List

from ..core.devices import check_dtype, describe_devices, for_rank, parse_devices
from ..core.mxnet_stack import mx, amp
from .distributed import SINGLE, Ranks

__all__ = ['Placement', 'place_training', 'ON_CPU']

# GluonNLP's fused attention operators are in none of AMP's bfloat16 lists, so under AMP they would receive the
# bfloat16 output of the projection before them and fail ("expected bfloat16, got float32"): they run float32.
_BFLOAT16_FP32_OPERATORS = ('_contrib_interleaved_matmul_selfatt_qk', '_contrib_interleaved_matmul_selfatt_valatt',
                            '_contrib_interleaved_matmul_encdec_qk', '_contrib_interleaved_matmul_encdec_valatt')


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


ON_CPU = Placement([mx.cpu()])  # what a Trainer computes with unless it is given a placement


def place_training(device=None, dtype: str = 'float32', ranks: Ranks = SINGLE, what: str = '--device') -> Placement:
    """The devices and precision of this process's part of a training job (see the module docstring). float16 and
    bfloat16 turn on MXNet's AMP here, before the model is built; bfloat16 (CPUs with AVX512-BF16 or AMX) casts the
    dense layers' inputs and keeps everything else float32 by MXNet's own lists, GluonNLP's attention products
    added; it needs no loss scaling (bfloat16 has float32's exponent range). A :class:`Placement` (the command line
    places a job once, before reading anything) is returned as it is."""
    if isinstance(device, Placement):
        return device
    contexts = parse_devices(device, what=what)
    if ranks.distributed:
        contexts = for_rank(contexts, ranks.local_rank, ranks.local_size)
    check_dtype(dtype, contexts)
    if dtype != 'float32':
        if dtype == 'float16':
            amp.init(target_dtype='float16')
        else:
            amp.init(target_dtype='bfloat16',
                     fp32_ops=list(amp.lists.symbol_bf16.FP32_FUNCS) + list(_BFLOAT16_FP32_OPERATORS))
    return Placement(contexts, dtype)
