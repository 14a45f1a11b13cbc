"""Mixed precision: float16 (GPUs) or bfloat16 (CPUs) compute through MXNet's AMP; float16 with the trainer's own
dynamic loss scaling.

:func:`~.placement.place_training` (every training entry point, before it builds a model) checks the precision on
the devices (float16: GPUs only, :func:`~kobert_gluon.core.devices.check_dtype`) and turns on ``mxnet.contrib.amp``,
which from then on casts each operator to float16 or keeps it in float32 by MXNet's own lists (softmax, layer
normalisation and the losses stay float32); the weights, their gradients and the optimizer states stay float32
("master weights"). AMP must be on before the model's graph is first traced, hence before the model is built; it
cannot be turned off again in the same process.

Small float16 gradients underflow to 0, so the loss is multiplied by a large factor before ``backward`` and the
gradients divided by it afterwards (:class:`LossScaler`). A step whose gradients are not finite (the factor was too
large) is skipped and the factor halved; after ``growth_interval`` good steps in a row it doubles. The trainer does
this itself instead of through ``amp.init_trainer`` because its all-reduce, clipping and update are separate calls
(and Horovod's trainer rescales by the number of ranks), and so that the factor is saved in checkpoints: a resumed
run continues with the factor it had.
"""
from typing import Any, Dict

__all__ = ['LossScaler']


class LossScaler:
    """Dynamic loss scaling (see the module docstring): ``scale`` multiplies the loss before ``backward``."""

    def __init__(self, scale: float = 2.0 ** 16, growth_interval: int = 2000, max_scale: float = 2.0 ** 24):
        if not scale > 0 or growth_interval < 1:
            raise ValueError('the loss scale must be positive and growth_interval at least 1')
        self.scale = float(scale)
        self.growth_interval = growth_interval
        self.max_scale = float(max_scale)
        self.good_steps = 0
        self.skipped_steps = 0

    def update(self, finite: bool) -> None:
        """After a step: halve on non-finite gradients (the step was skipped), double after a run of good ones."""
        if not finite:
            self.scale = max(self.scale / 2.0, 1.0)
            self.good_steps = 0
            self.skipped_steps += 1
            return
        self.good_steps += 1
        if self.good_steps >= self.growth_interval:
            self.scale = min(self.scale * 2.0, self.max_scale)
            self.good_steps = 0

    def state(self) -> Dict[str, Any]:
        return {'scale': self.scale, 'good_steps': self.good_steps, 'skipped_steps': self.skipped_steps}

    def load(self, state: Dict[str, Any]) -> None:
        self.scale = float(state['scale'])
        self.good_steps = int(state['good_steps'])
        self.skipped_steps = int(state.get('skipped_steps', 0))
