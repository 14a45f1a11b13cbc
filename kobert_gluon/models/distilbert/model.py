"""The ``distilbert`` architecture (DistilKoBERT): BERT's encoder layers without token-type embeddings and without
the tanh pooler. Its config is :mod:`.config`; the family registers itself in :mod:`kobert_gluon.models.distilbert`.

The math is transformers' ``DistilBertModel``: word + position embeddings, LayerNorm, then post-LayerNorm encoder
layers (the same cell as BERT's, so GluonNLP's ``BERTEncoder`` computes them). What the package's heads read as the
"pooled output" is DistilBERT's classification pre-head: the ``[CLS]`` position through a dense layer and ReLU
(``pre_classifier`` in transformers' ``DistilBertForSequenceClassification``). So the sentence heads of
:mod:`kobert_gluon.heads` add dropout and the output layer on top and give exactly that model, and fine-tuning,
predict, evaluate and ONNX export take a DistilBERT unchanged. The optional masked-LM head (``use_decoder``) is
transformers' ``vocab_transform`` -> GELU -> ``vocab_layer_norm`` -> ``vocab_projector`` (tied to the word
embeddings), which is GluonNLP's BERT decoder.

Token-type ids are accepted (every backbone takes ``(input_ids, token_type_ids, valid_length)``) and add nothing:
zeros of their shape are added to the sequence output. They must be read: a hybridized graph with an input it
never reads fails MXNet's deferred shape inference (a task head's layers learn their shapes that way).
Positions are learned, or fixed sinusoids with ``sinusoidal_positions=True`` (transformers'
``sinusoidal_pos_embds``): then the table is filled at initialisation and never trained.
"""
import numpy as np

from ...core.mxnet_stack import mx, nn, nlp
from .config import OUTPUTS, DistilBertConfig

__all__ = ['DistilBertModel', 'build_distilbert', 'sinusoidal_table']


def sinusoidal_table(max_length: int, units: int) -> np.ndarray:
    """The fixed position table of the Transformer paper (transformers' ``create_sinusoidal_embeddings``): sines in
    the even columns, cosines in the odd ones."""
    positions = np.arange(max_length, dtype=np.float64)[:, None]
    rates = np.power(10000.0, 2 * (np.arange(units) // 2) / units)[None, :]
    angles = positions / rates
    table = np.zeros((max_length, units), dtype=np.float32)
    table[:, 0::2] = np.sin(angles[:, 0::2])
    table[:, 1::2] = np.cos(angles[:, 1::2])
    return table


class DistilBertModel(nlp.model.BERTModel):
    """GluonNLP's ``BERTModel`` without token types and next-sentence head, whose pooler is DistilBERT's ReLU
    pre-classifier (see the module docstring). Outputs as BERTModel's: ``(sequence, pooled[, mlm_scores])``."""

    def __init__(self, encoder, vocab_size, units, use_pooler=True, use_decoder=False, prefix=None, params=None):
        super().__init__(encoder, vocab_size=vocab_size, token_type_vocab_size=None, units=units, embed_size=units,
                         word_embed=None, use_pooler=use_pooler, use_decoder=use_decoder, use_classifier=False,
                         use_token_type_embed=False, prefix=prefix, params=params)

    def _get_pooler(self, units, prefix):
        with self.name_scope():
            return nn.Dense(units=units, flatten=False, activation='relu', prefix=prefix)

    def _encode_sequence(self, inputs, token_types, valid_length=None):
        outputs, additional = super()._encode_sequence(inputs, token_types, valid_length)
        F = mx.sym if isinstance(token_types, mx.sym.Symbol) else mx.nd
        zeros = F.cast(F.expand_dims(F.zeros_like(token_types), axis=2), 'float32')  # (batch, length, 1): adds nothing
        if isinstance(outputs, (list, tuple)):
            return [F.broadcast_add(output, zeros) for output in outputs], additional
        return F.broadcast_add(outputs, zeros), additional

def build_distilbert(config: DistilBertConfig, use_pooler=True, use_decoder=False,
                     output_all_encodings=False, prefix=None) -> DistilBertModel:
    """An uninitialised DistilBERT (``use_pooler``: the ReLU pre-classifier; ``use_decoder``: the masked-LM head)."""
    encoder = nlp.model.BERTEncoder(num_layers=config.num_layers, units=config.units, hidden_size=config.hidden_size,
                                    max_length=config.max_length, num_heads=config.num_heads, dropout=config.dropout,
                                    output_attention=False, output_all_encodings=output_all_encodings,
                                    activation=config.activation, layer_norm_eps=config.layer_norm_eps)
    if config.sinusoidal_positions:
        encoder.position_weight.init = mx.init.Constant(mx.nd.array(sinusoidal_table(config.max_length,
                                                                                      config.units)))
        encoder.position_weight.grad_req = 'null'
    model = DistilBertModel(encoder, config.vocab_size, config.units, use_pooler=use_pooler, use_decoder=use_decoder,
                            prefix=prefix)
    model.kobert_config = config
    model.kobert_heads = {'use_pooler': use_pooler, 'use_decoder': use_decoder}
    model.kobert_outputs = OUTPUTS.of(config, model.kobert_heads, output_all_encodings)
    return model
