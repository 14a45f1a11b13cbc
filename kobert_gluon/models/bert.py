"""The ``bert`` architecture: BERT hyper-parameters as plain data, and the one function that turns them into a
GluonNLP ``BERTModel`` (KoBERT's). Registered in :mod:`.registry`."""
from dataclasses import dataclass
from typing import Any, Dict

from ..core import environment  # noqa: F401  (first: numpy check, mxnet without onnx, the gluonnlp fix)
from gluonnlp.model import BERTEncoder, BERTModel
from mxnet.gluon import nn

from ..core.errors import InputError
from .config_base import ArchitectureConfig

__all__ = ['BertConfig', 'KOBERT_BASE_CONFIG', 'SHAPE_FIELDS', 'build_bert']

# Fields that decide parameter shapes: a pretrained file only loads into a model that agrees on them.
SHAPE_FIELDS = ('vocab_size', 'num_layers', 'units', 'hidden_size', 'max_length', 'num_heads', 'embed_size',
                'token_type_vocab_size')


@dataclass(frozen=True)
class BertConfig(ArchitectureConfig):
    """KoBERT's ``predefined_args`` plus the vocabulary size. Defaults are KoBERT-base."""
    family = 'BERT'
    SIZE_FIELDS = SHAPE_FIELDS
    DROPOUT_FIELDS = ('dropout', 'embed_dropout')

    vocab_size: int = 8002
    attention_cell: str = 'multi_head'
    num_layers: int = 12
    units: int = 768
    hidden_size: int = 3072
    max_length: int = 512
    num_heads: int = 12
    scaled: bool = True
    dropout: float = 0.1
    use_residual: bool = True
    embed_size: int = 768
    embed_dropout: float = 0.1
    token_type_vocab_size: int = 2
    activation: str = 'gelu'
    layer_norm_eps: float = 1e-12

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
        units, hidden = self.units, self.hidden_size
        embed = self.vocab_size * units + self.token_type_vocab_size * units + self.max_length * units + 2 * units
        layer = 4 * (units * units + units) + 2 * 2 * units + (units * hidden + hidden) + (hidden * units + units)
        total = embed + self.num_layers * layer
        if use_pooler:
            total += units * units + units
            if use_classifier:
                total += units * 2 + 2
        if use_decoder:
            total += (units * units + units) + 2 * units + self.vocab_size
        return total


KOBERT_BASE_CONFIG = BertConfig()


def build_bert(config: BertConfig, use_pooler=True, use_decoder=True, use_classifier=True,
               output_all_encodings=False, prefix=None) -> BERTModel:
    """An uninitialised GluonNLP ``BERTModel`` with the structure of the original KoBERT code.

    The block structure (and so the parameter names in ``.params`` files) is exactly the one the original
    ``get_kobert_model`` built, so its pretrained file loads unchanged.
    """
    if use_classifier and not use_pooler:
        raise InputError('use_classifier=True needs use_pooler=True: the next-sentence classifier reads the '
                         'pooled output')
    encoder = BERTEncoder(num_layers=config.num_layers, units=config.units, hidden_size=config.hidden_size,
                          max_length=config.max_length, num_heads=config.num_heads, dropout=config.dropout,
                          output_attention=False, output_all_encodings=output_all_encodings,
                          activation=config.activation, layer_norm_eps=config.layer_norm_eps)
    if config.embed_dropout != config.dropout:
        # GluonNLP's encoder drops out the summed embeddings at its own ``dropout`` rate (the one dropout layer
        # outside the cells, which reads ``_dropout``); a different embedding rate replaces that layer. Dropout
        # has no parameters, so saved files and the exported graph are unaffected.
        encoder._dropout = config.embed_dropout
        with encoder.name_scope():
            encoder.dropout_layer = nn.Dropout(rate=config.embed_dropout)
    model = BERTModel(encoder, config.vocab_size, token_type_vocab_size=config.token_type_vocab_size,
                      units=config.units, embed_size=config.embed_size, word_embed=None,
                      use_pooler=use_pooler, use_decoder=use_decoder, use_classifier=use_classifier,
                      prefix=prefix)
    # Plain attributes (not Blocks or Parameters), so Gluon ignores them; save_model reads them back.
    model.kobert_config = config
    model.kobert_heads = {'use_pooler': use_pooler, 'use_decoder': use_decoder, 'use_classifier': use_classifier}
    return model
