"""The DistilBERT family's hyper-parameters as plain data (no MXNet: the catalogue, ``info`` and the converters read
them without building anything)."""
from dataclasses import dataclass

from ...core.errors import InputError
from ..architecture_registry import MLM_LOGITS, POOLED_OUTPUT, BlockOutputs
from ..config_base import ArchitectureConfig

__all__ = ['DistilBertConfig', 'DISTILKOBERT_CONFIG', 'SHAPE_FIELDS', 'OUTPUTS']

SHAPE_FIELDS = ('vocab_size', 'num_layers', 'units', 'hidden_size', 'max_length', 'num_heads')

# What the block returns after its sequence output: its pre-classifier, then its masked-LM scores.
OUTPUTS = BlockOutputs(heads=(('use_pooler', POOLED_OUTPUT), ('use_decoder', MLM_LOGITS)))


@dataclass(frozen=True)
class DistilBertConfig(ArchitectureConfig):
    """DistilBERT hyper-parameters. Defaults are DistilKoBERT's: 3 layers of KoBERT's width, KoBERT's vocabulary."""
    family = 'DistilBERT'
    SIZE_FIELDS = SHAPE_FIELDS

    vocab_size: int = 8002
    num_layers: int = 3
    units: int = 768
    hidden_size: int = 3072
    max_length: int = 512
    num_heads: int = 12
    dropout: float = 0.1
    activation: str = 'gelu'
    layer_norm_eps: float = 1e-12
    sinusoidal_positions: bool = False

    def __post_init__(self):
        self._check_fields()

    def num_parameters(self, use_pooler=False, use_decoder=False) -> int:
        """Parameter count of the model :func:`build_distilbert` makes (the decoder shares the word embedding)."""
        units = self.units
        embed = self.vocab_size * units + self.max_length * units + 2 * units
        total = embed + self.encoder_parameters()
        if use_pooler:
            total += units * units + units
        if use_decoder:
            total += (units * units + units) + 2 * units + self.vocab_size
        return total


DISTILKOBERT_CONFIG = DistilBertConfig()
