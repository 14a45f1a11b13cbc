"""The architecture registry: the name a model folder's ``config.json`` (or a catalogue entry) gives -> how to build
it. Plain data and no MXNet, so the catalogue, ``info`` and the converters read it without building anything; the
families (:mod:`.all_families`) fill it.

An architecture is a config class (a frozen dataclass with ``from_dict``, ``to_dict`` and ``replace``), a
``build(config, **optional_heads)`` that returns an uninitialised Gluon block, the config fields that fix
parameter shapes (a pretrained file loads only into a model that agrees on them), and the optional pretraining
heads its builder takes (for BERT: ``use_pooler``, ``use_decoder``, ``use_classifier``), and what its block returns
(:class:`BlockOutputs`: the sequence output, then one output per head it was built with, with their axes), which
export, the runtimes and the heads read instead of the block's own flags.

Built with no pretraining heads but its pooler, every architecture's block is a *backbone*:
``backbone(input_ids, token_type_ids, valid_length) -> (sequence_output, pooled_output)`` (``pooled_output`` is
None for an architecture without a pooler), which is what the heads in :mod:`kobert_gluon.heads` sit on.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ..core.errors import InputError
from ..core.outputs import BATCH, MASKED, SEQUENCE, OutputSpec, outputs_of
from ..core.registry import Registry

__all__ = ['Architecture', 'BlockOutputs', 'OutputSpec', 'SEQUENCE_OUTPUT', 'POOLED_OUTPUT', 'MLM_LOGITS',
           'register_architecture', 'get_architecture', 'architectures', 'architecture_for_config', 'backbone_heads',
           'outputs_of']

# The outputs most families share; a size named by a config field ('units') is sized by the block's config.
SEQUENCE_OUTPUT = OutputSpec('sequence_output', (BATCH, SEQUENCE, 'units'))
POOLED_OUTPUT = OutputSpec('pooled_output', (BATCH, 'units'))
MLM_LOGITS = OutputSpec('mlm_logits', (BATCH, MASKED, 'vocab_size'))


@dataclass(frozen=True)
class BlockOutputs:
    """What a family's block returns: its sequence output (one per encoder layer, ``encoder_layer_1`` ...
    ``encoder_layer_N``, when built with every encoding), then, in the order the block returns them, the output of
    each optional head it was built with: ``heads`` pairs a head option with its output."""
    heads: Tuple[Tuple[str, OutputSpec], ...]
    sequence: OutputSpec = SEQUENCE_OUTPUT

    def of(self, config, heads: Mapping[str, Any], all_layers: bool = False) -> Tuple[OutputSpec, ...]:
        """The outputs of a block of ``config`` built with ``heads`` (head option -> on), every size that a config
        field names replaced by its value."""
        sizes = config.to_dict()
        if all_layers:
            sequences = [OutputSpec('encoder_layer_{}'.format(i + 1), self.sequence.axes)
                         for i in range(config.num_layers)]
        else:
            sequences = [self.sequence]
        chosen = [output for head, output in self.heads if heads.get(head)]
        return tuple(output.sized(sizes) for output in sequences + chosen)


@dataclass(frozen=True)
class Architecture:
    name: str
    config_class: type
    build: Callable
    shape_fields: Tuple[str, ...]
    optional_heads: Tuple[str, ...] = ()
    description: str = ''
    outputs: Optional[BlockOutputs] = None  # required: what its block returns

    def __post_init__(self):
        if not isinstance(self.outputs, BlockOutputs):
            raise TypeError('architecture {!r} must declare its outputs (outputs=BlockOutputs(...))'.format(self.name))
        declared = {head for head, _ in self.outputs.heads}
        if declared != set(self.optional_heads):
            raise TypeError('architecture {!r} declares outputs for the heads {} but has the optional heads {}'
                            .format(self.name, sorted(declared), sorted(self.optional_heads)))

    def config_from(self, value: Any):
        """A config object of this architecture from a config object or a dict of its fields."""
        if isinstance(value, self.config_class):
            return value
        if isinstance(value, dict):
            return self.config_class.from_dict(value)
        raise InputError('a {} model needs a {} or a dict of its fields, got {}'.format(
            self.name, self.config_class.__name__, type(value).__name__))

    def take_heads(self, options: Dict[str, Any]) -> Dict[str, Any]:
        """Remove and return the head options in ``options`` that this architecture has. A head another
        architecture has (``use_classifier`` for a DistilBERT) may be asked away (False/None) and is dropped;
        asking for it is an error."""
        known = {head for architecture in _ARCHITECTURES.values() for head in architecture.optional_heads}
        heads = {}
        for name in [name for name in options if name in known]:
            value = options.pop(name)
            if name in self.optional_heads:
                heads[name] = value
            elif value:
                raise InputError('a {} model has no {} head ({}=True); its optional heads are {}'.format(
                    self.name, name[4:], name, ', '.join(self.optional_heads)))
        return heads

    def changed_shapes(self, config, overrides: Dict[str, Any]):
        """The shape fields ``overrides`` would change (those cannot change for pretrained weights)."""
        return [k for k in overrides if k in self.shape_fields and overrides[k] != getattr(config, k)]


_ARCHITECTURES: Registry[Architecture] = Registry('architecture',
                                                  'a model written by a newer release may need an upgrade')


def register_architecture(architecture: Architecture) -> Architecture:
    return _ARCHITECTURES.register(architecture.name, architecture)


def get_architecture(name: str) -> Architecture:
    return _ARCHITECTURES.get(name)


def architectures():
    return sorted(_ARCHITECTURES.names())


def backbone_heads(pooler: bool = True) -> Dict[str, bool]:
    """Head options that make any architecture a backbone: no pretraining head, and its pooler for the sentence heads
    (``pooler=False`` for the heads that read every position) (``take_heads`` drops the ones an architecture does
    not have)."""
    heads = {head: False for architecture in _ARCHITECTURES.values() for head in architecture.optional_heads}
    heads['use_pooler'] = pooler
    return heads


def architecture_for_config(config) -> Architecture:
    """The architecture whose config class ``config`` is (exactly, else the closest base class)."""
    for cls in type(config).__mro__:
        for architecture in _ARCHITECTURES.values():
            if architecture.config_class is cls:
                return architecture
    raise InputError('{} is not the config of a registered architecture ({})'.format(
        type(config).__name__, ', '.join(architectures())))
