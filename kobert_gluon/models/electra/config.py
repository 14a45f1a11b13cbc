"""The ELECTRA family's hyper-parameters as plain data (no MXNet: the catalogue, ``info`` and the converters read
them without building anything)."""
from dataclasses import dataclass

from ...core.errors import InputError
from ..architecture_registry import MLM_LOGITS, POOLED_OUTPUT, BlockOutputs
from ...core.outputs import BATCH, SEQUENCE, OutputSpec
from ..config_base import EncoderConfig

__all__ = ['ElectraConfig', 'KOELECTRA_SMALL_V3_CONFIG', 'KOELECTRA_BASE_V3_CONFIG', 'SHAPE_FIELDS', 'OUTPUTS']

SHAPE_FIELDS = ('vocab_size', 'num_layers', 'units', 'hidden_size', 'max_length', 'num_heads', 'embed_size',
                'token_type_vocab_size')

# What the block returns after its sequence output: the classification pre-head, the replaced-token score of
# every position (the discriminator), the generator's masked-LM scores.
OUTPUTS = BlockOutputs(heads=(('use_pooler', POOLED_OUTPUT),
                              ('use_discriminator', OutputSpec('replaced_token_logits', (BATCH, SEQUENCE))),
                              ('use_decoder', MLM_LOGITS)))


@dataclass(frozen=True)
class ElectraConfig(EncoderConfig):
    """ELECTRA hyper-parameters (one model: a discriminator, or a generator). Defaults are KoELECTRA-Small-v3's."""
    family = 'ELECTRA'
    SIZE_FIELDS = SHAPE_FIELDS

    vocab_size: int = 35000
    units: int = 256
    hidden_size: int = 1024
    num_heads: int = 4
    # ELECTRA's own: embeddings narrower than the encoder, projected up when they differ
    embed_size: int = 128
    token_type_vocab_size: int = 2

    def generator(self, fraction: float) -> 'ElectraConfig':
        """The generator ELECTRA pairs with this discriminator: ``fraction`` of its heads (at least one, of the same
        head size), so of its width and FFN; the same depth, embeddings and vocabulary (the ELECTRA paper's sizing)."""
        if not 0.0 < fraction <= 1.0:
            raise InputError('the generator size must be a fraction in (0, 1], got {!r}'.format(fraction))
        head_size = self.units // self.num_heads
        num_heads = max(1, round(self.num_heads * fraction))
        return self.replace(units=num_heads * head_size, num_heads=num_heads,
                            hidden_size=max(1, round(self.hidden_size * num_heads / self.num_heads)))

    def num_parameters(self, use_pooler=False, use_discriminator=False, use_decoder=False) -> int:
        """Parameter count of the model :func:`build_electra` makes (the decoder shares the word embedding)."""
        units, embed = self.units, self.embed_size
        total = (self.vocab_size + self.token_type_vocab_size + self.max_length) * embed + 2 * embed
        if embed != units:
            total += embed * units + units
        total += self.encoder_parameters()
        if use_pooler:
            total += units * units + units
        if use_discriminator:
            total += units * units + units + units + 1
        if use_decoder:
            total += units * embed + embed + 2 * embed + self.vocab_size
        return total


KOELECTRA_SMALL_V3_CONFIG = ElectraConfig()
KOELECTRA_BASE_V3_CONFIG = ElectraConfig(units=768, hidden_size=3072, num_heads=12, embed_size=768)
