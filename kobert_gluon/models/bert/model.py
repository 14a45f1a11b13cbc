"""The ``bert`` architecture's builder: the one function that turns a :class:`~.config.BertConfig` into a GluonNLP
``BERTModel`` (KoBERT's)."""
from ...core.errors import InputError
from ...core.mxnet_stack import nn, nlp
from .config import OUTPUTS, BertConfig

__all__ = ['build_bert']


def build_bert(config: BertConfig, use_pooler=True, use_decoder=True, use_classifier=True,
               output_all_encodings=False, prefix=None) -> nlp.model.BERTModel:
    """An uninitialised GluonNLP ``BERTModel`` with the structure of the original KoBERT code.

    The block structure (and so the parameter names in ``.params`` files) is exactly the one the original
    ``get_kobert_model`` built, so its pretrained file loads unchanged.
    """
    if use_classifier and not use_pooler:
        raise InputError('use_classifier=True needs use_pooler=True: the next-sentence classifier reads the '
                         'pooled output')
    encoder = nlp.model.BERTEncoder(num_layers=config.num_layers, units=config.units, hidden_size=config.hidden_size,
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
    model = nlp.model.BERTModel(encoder, config.vocab_size, token_type_vocab_size=config.token_type_vocab_size,
                                units=config.units, embed_size=config.embed_size, word_embed=None,
                                use_pooler=use_pooler, use_decoder=use_decoder, use_classifier=use_classifier,
                                prefix=prefix)
    # Plain attributes (not Blocks or Parameters), so Gluon ignores them; save_model reads them back.
    model.kobert_config = config
    model.kobert_heads = {'use_pooler': use_pooler, 'use_decoder': use_decoder, 'use_classifier': use_classifier}
    model.kobert_outputs = OUTPUTS.of(config, model.kobert_heads, output_all_encodings)
    return model
