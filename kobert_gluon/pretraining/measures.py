"""What the pretraining tasks (MLM + NSP, ELECTRA, distillation) share to score a batch and a dev set.

A task scores a batch as ``{metric: (numerator, denominator)}`` (NDArrays or floats; e.g. correct predictions and
predictions). The trainer adds these up over a step's micro-batches; :func:`dev_ratios` adds them up over the dev
batches and divides, so a dev metric is weighted exactly as the per-step one.
"""
from typing import Callable, Dict, Iterable, List, Tuple

from ..core.mxnet_stack import mx

__all__ = ['scalar', 'dev_ratios', 'real_positions']


def scalar(value) -> float:
    return float(value.asscalar()) if hasattr(value, 'asscalar') else float(value)


def dev_ratios(batches: Iterable, sums_of: Callable[[tuple], Dict[str, Tuple[object, object]]]) -> Dict[str, float]:
    """``{metric: sum of numerators / sum of denominators}`` over ``batches``, each scored by ``sums_of``."""
    totals: Dict[str, List[float]] = {}
    for batch in batches:
        for name, (numerator, denominator) in sums_of(batch).items():
            sums = totals.setdefault(name, [0.0, 0.0])
            sums[0] += scalar(numerator)
            sums[1] += scalar(denominator)
    return {name: numerator / max(denominator, 1e-8) for name, (numerator, denominator) in totals.items()}


def real_positions(valid_length, length: int, ctx=None):
    """``(batch, length)`` float mask: 1 at the real (unpadded) positions of each sequence."""
    return (mx.nd.arange(length, ctx=ctx or valid_length.context).reshape((1, -1))
            < valid_length.astype('float32').reshape((-1, 1))).astype('float32')
