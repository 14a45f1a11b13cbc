"""XLM-RoBERTa's hyper-parameters as plain data (no MXNet)."""
from dataclasses import dataclass

from ...core.errors import InputError
from ..architecture_registry import POOLED_OUTPUT, BlockOutputs
from ..config_base import EncoderConfig

__all__ = ['XLMRobertaConfig', 'XLM_ROBERTA_BASE_CONFIG', 'SHAPE_FIELDS', 'OUTPUTS']

# Fields that decide parameter shapes (padding_idx moves the position table: it has max_length + padding_idx + 1 rows)
SHAPE_FIELDS = ('vocab_size', 'num_layers', 'units', 'hidden_size', 'max_length', 'num_heads', 'padding_idx')

# What the block returns after its sequence output: the classification pre-head's dense + tanh, if built with it.
OUTPUTS = BlockOutputs(heads=(('use_pooler', POOLED_OUTPUT),))


@dataclass(frozen=True)
class XLMRobertaConfig(EncoderConfig):
    """XLM-RoBERTa hyper-parameters. Defaults are xlm-roberta-base's. ``max_length`` is the longest input (512); the
    position table has ``max_length + padding_idx + 1`` rows, as RoBERTa numbers positions from ``padding_idx + 1``
    (transformers' ``max_position_embeddings`` is that table size, 514)."""
    family = 'XLM-RoBERTa'
    SIZE_FIELDS = ('vocab_size', 'num_layers', 'units', 'hidden_size', 'max_length', 'num_heads')

    vocab_size: int = 250002
    layer_norm_eps: float = 1e-5
    padding_idx: int = 1

    def __post_init__(self):
        self._check_fields()
        if not isinstance(self.padding_idx, int) or isinstance(self.padding_idx, bool) or self.padding_idx < 0:
            raise InputError('XLMRobertaConfig.padding_idx must be an id >= 0, got {!r}'.format(self.padding_idx))

    @property
    def position_offset(self) -> int:
        """The row of the position table that position 0 reads."""
        return self.padding_idx + 1

    def num_parameters(self, use_pooler=True) -> int:
        """Parameter count of the model :func:`.model.build_xlm_roberta` makes."""
        units = self.units
        embed = (self.vocab_size + 1 + self.max_length + self.position_offset) * units + 2 * units
        return embed + self.encoder_parameters() + (units * units + units if use_pooler else 0)


XLM_ROBERTA_BASE_CONFIG = XLMRobertaConfig()
