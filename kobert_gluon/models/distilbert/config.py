"""The DistilBERT family's hyper-parameters as plain data (no MXNet: the catalogue, ``info`` and the converters read
them without building anything)."""
from dataclasses import dataclass

from ...core.errors import InputError
from ..architecture_registry import MLM_LOGITS, POOLED_OUTPUT, BlockOutputs
from ..config_base import EncoderConfig

__all__ = ['DistilBertConfig', 'DISTILKOBERT_CONFIG', 'SHAPE_FIELDS', 'OUTPUTS']

SHAPE_FIELDS = ('vocab_size', 'num_layers', 'units', 'hidden_size', 'max_length', 'num_heads')

# What the block returns after its sequence output: its pre-classifier, then its masked-LM scores.
OUTPUTS = BlockOutputs(heads=(('use_pooler', POOLED_OUTPUT), ('use_decoder', MLM_LOGITS)))


@dataclass(frozen=True)
class DistilBertConfig(EncoderConfig):
    """DistilBERT hyper-parameters. Defaults are DistilKoBERT's: 3 layers of KoBERT's width, KoBERT's vocabulary."""
    family = 'DistilBERT'
    SIZE_FIELDS = SHAPE_FIELDS

    num_layers: int = 3
    sinusoidal_positions: bool = False

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
