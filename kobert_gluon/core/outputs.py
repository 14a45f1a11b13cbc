"""What a block returns, as plain data: each output's name and axes. A model family declares its backbone's and its
pretraining heads' outputs (:class:`kobert_gluon.models.architecture_registry.BlockOutputs`), a task head its own;
export, the ONNX parity check, the runtimes and the heads read these declarations instead of asking a block how it
was built.

An axis is ``'batch'`` or ``'sequence'`` (they follow the inputs), a fixed size, or, in a family's declaration
before a config sizes it, the name of the config field that gives the size (``'units'``, ``'vocab_size'``) or an
axis no export input has (``'masked'``: the positions a pretraining batch masks).
"""
from dataclasses import dataclass
from typing import Mapping, Tuple, Union

from .errors import InputError

__all__ = ['OutputSpec', 'BATCH', 'SEQUENCE', 'MASKED', 'outputs_of']

BATCH, SEQUENCE = 'batch', 'sequence'
# The masked-LM heads' second axis: the masked positions, an input of pretraining only
MASKED = 'masked'


@dataclass(frozen=True)
class OutputSpec:
    """One output: its name and its axes, each ``'batch'``, ``'sequence'``, a fixed size or a size's name."""
    name: str
    axes: Tuple[Union[str, int], ...]

    def sized(self, sizes: Mapping[str, int]) -> 'OutputSpec':
        """The same output with every named size that ``sizes`` knows replaced by its value."""
        return OutputSpec(self.name, tuple(sizes.get(axis, axis) if isinstance(axis, str) else axis
                                           for axis in self.axes))

    @property
    def per_position(self) -> bool:
        """Whether the output has a value per input position (its second axis follows the sequence)."""
        return len(self.axes) >= 2 and self.axes[1] == SEQUENCE

    @property
    def follows_inputs(self) -> bool:
        """Whether the inputs every export has (ids, types, lengths) size it: an output over the masked positions
        needs one more."""
        return MASKED not in self.axes


def outputs_of(block) -> Tuple[OutputSpec, ...]:
    """The outputs a block returns, as its builder described them (``kobert_outputs``: a family's builder or a head)."""
    outputs = getattr(block, 'kobert_outputs', None)
    if outputs is None:
        raise InputError('a {} does not describe its outputs: build it with kobert_gluon (get_model, or its family\'s '
                         'builder such as build_bert)'.format(type(block).__name__))
    return tuple(outputs)
