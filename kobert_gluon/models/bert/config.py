"""The BERT family's hyper-parameters as plain data (no MXNet: the catalogue, ``info`` and the converters read
them without building anything)."""
from dataclasses import dataclass
from typing import Any, Dict

from ...core.errors import InputError
from ..architecture_registry import MLM_LOGITS, POOLED_OUTPUT, BlockOutputs
from ...core.outputs import BATCH, OutputSpec
from ..config_base import EncoderConfig

__all__ = ['BertConfig', 'KOBERT_BASE_CONFIG', 'SHAPE_FIELDS', 'OUTPUTS']

# Fields that decide parameter shapes: a pretrained file only loads into a model that agrees on them.
SHAPE_FIELDS = ('vocab_size', 'num_layers', 'units', 'hidden_size', 'max_length', 'num_heads', 'embed_size',
                'token_type_vocab_size')

# What the block returns after its sequence output, in GluonNLP BERTModel's order: one output per head it was built
# with.
OUTPUTS = BlockOutputs(heads=(('use_pooler', POOLED_OUTPUT),
                              ('use_classifier', OutputSpec('next_sentence_logits', (BATCH, 2))),
                              ('use_decoder', MLM_LOGITS)))


@dataclass(frozen=True)
class BertConfig(EncoderConfig):
    """KoBERT's ``predefined_args`` plus the vocabulary size. Defaults are KoBERT-base."""
    family = 'BERT'
    SIZE_FIELDS = SHAPE_FIELDS
    DROPOUT_FIELDS = ('dropout', 'embed_dropout')

    # GluonNLP's BERTModel arguments beyond the encoder's (the first three admit one value; kept as KoBERT names them)
    attention_cell: str = 'multi_head'
    scaled: bool = True
    use_residual: bool = True
    embed_size: int = 768
    embed_dropout: float = 0.1
    token_type_vocab_size: int = 2

    def __post_init__(self):
        self._check_fields()
        if self.embed_size != self.units:
            raise InputError('BertConfig.embed_size ({}) must equal units ({}): GluonNLP adds the embeddings '
                             'straight into the encoder'.format(self.embed_size, self.units))
        if self.attention_cell != 'multi_head' or not self.scaled or not self.use_residual:
            raise InputError('only scaled multi-head attention with residual connections is supported '
                             '(BERTEncoder has no other variant)')

    def _follow(self, changes: Dict[str, Any]) -> Dict[str, Any]:
        changes = dict(changes)
        if 'units' in changes and 'embed_size' not in changes and self.embed_size == self.units:
            changes['embed_size'] = changes['units']  # they must agree, so the embedding follows the units
        if 'dropout' in changes and 'embed_dropout' not in changes and self.embed_dropout == self.dropout:
            changes['embed_dropout'] = changes['dropout']  # one --dropout keeps meaning all dropout, as before
        return changes

    def num_parameters(self, use_pooler=True, use_decoder=False, use_classifier=False) -> int:
        """Parameter count of the model :func:`build_bert` makes (the decoder shares the word embedding)."""
        units = self.units
        embed = self.vocab_size * units + self.token_type_vocab_size * units + self.max_length * units + 2 * units
        total = embed + self.encoder_parameters()
        if use_pooler:
            total += units * units + units
            if use_classifier:
                total += units * 2 + 2
        if use_decoder:
            total += (units * units + units) + 2 * units + self.vocab_size
        return total


KOBERT_BASE_CONFIG = BertConfig()
"""KoBERT-base's shape: 12 layers, 768 units, 12 heads, 3,072 feed-forward units, 512 positions, 8,002 tokens."""
