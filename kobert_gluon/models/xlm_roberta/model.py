"""The ``xlm-roberta`` architecture's builder: GluonNLP's ``BERTModel`` with RoBERTa's positions and one token type.

The math is transformers' ``XLMRobertaModel``: word + token-type + position embeddings, LayerNorm (epsilon 1e-5),
then post-LayerNorm encoder layers (GluonNLP's ``BERTEncoderCell``, the same cell as BERT's). Two things differ from
BERT:

* positions are numbered from ``padding_idx + 1`` (fairseq's convention): position ``i`` reads row
  ``i + padding_idx + 1`` of the table (transformers gives padding positions row ``padding_idx``; they are masked
  out of attention, so only their own outputs differ, which nothing reads);
* there is one token type: every position reads row 0, whatever token-type ids arrive (a pair encoded BERT's way
  gives ones). The ids are still read, as a hybridized graph needs every input it is given.

What the package's sentence heads read as the "pooled output" is the first half of transformers'
``XLMRobertaClassificationHead``: the ``<s>`` position through a dense layer and tanh (GluonNLP's pooler computes
exactly that). The heads add dropout and the output layer, so fine-tuning, predict and export give
``XLMRobertaForSequenceClassification`` (whose head has one more dropout before that dense layer, which matters in
training only). The base model's own pooler is not kept: transformers creates it untrained for RoBERTa checkpoints.
"""

from ...core.mxnet_stack import nlp
from .config import OUTPUTS, XLMRobertaConfig

__all__ = ['XLMRobertaModel', 'build_xlm_roberta']


class _OffsetPositionEncoder(nlp.model.BERTEncoder):
    """GluonNLP's BERT encoder whose position ``i`` reads row ``i + offset`` of its position table."""

    def __init__(self, position_offset: int, **options):
        super().__init__(**options)  # the table has options['max_length'] rows (the offset included)
        self._position_offset = position_offset
        self._max_length -= position_offset  # the rows the positions of an input can reach

    def hybrid_forward(self, F, inputs, states=None, valid_length=None, position_weight=None):
        # pylint: disable=arguments-differ
        position_weight = F.slice_axis(position_weight, axis=0, begin=self._position_offset, end=None)
        return super().hybrid_forward(F, inputs, states, valid_length, position_weight=position_weight)


class XLMRobertaModel(nlp.model.BERTModel):
    """GluonNLP's ``BERTModel`` reading token type 0 everywhere, with its tanh pooler; no pretraining heads. Outputs
    as BERTModel's: ``(sequence, pooled)`` (``sequence`` alone without the pooler)."""

    def __init__(self, encoder, vocab_size, units, use_pooler=True, prefix=None, params=None):
        super().__init__(encoder, vocab_size=vocab_size, token_type_vocab_size=1, units=units, embed_size=units,
                         word_embed=None, use_pooler=use_pooler, use_decoder=False, use_classifier=False,
                         prefix=prefix, params=params)

    def _encode_sequence(self, inputs, token_types, valid_length=None):
        return super()._encode_sequence(inputs, token_types.zeros_like(), valid_length)


def build_xlm_roberta(config: XLMRobertaConfig, use_pooler=True, output_all_encodings=False,
                      prefix=None) -> XLMRobertaModel:
    """An uninitialised XLM-RoBERTa of ``config`` (``use_pooler``: the classification pre-head's dense + tanh)."""
    encoder = _OffsetPositionEncoder(
        config.position_offset, num_layers=config.num_layers, units=config.units, hidden_size=config.hidden_size,
        max_length=config.max_length + config.position_offset, num_heads=config.num_heads, dropout=config.dropout,
        output_attention=False, output_all_encodings=output_all_encodings, activation=config.activation,
        layer_norm_eps=config.layer_norm_eps)
    model = XLMRobertaModel(encoder, config.vocab_size, config.units, use_pooler=use_pooler, prefix=prefix)
    model.kobert_config = config
    model.kobert_heads = {'use_pooler': use_pooler}
    model.kobert_outputs = OUTPUTS.of(config, model.kobert_heads, output_all_encodings)
    return model
