"""The ``electra`` architecture (KoELECTRA): BERT's encoder with its own embedding width, the replaced-token
discriminator head, and a generator that shares the embeddings. Its config is :mod:`.config`.

The math is transformers' ``ElectraModel``: word + token-type + position embeddings of ``embed_size`` units,
LayerNorm, dropout, then (when ``embed_size != units``) a dense projection to the encoder's ``units``
(``embeddings_project``), then post-LayerNorm encoder layers (GluonNLP's ``BERTEncoderCell``, the same cell as
BERT's). ELECTRA has no pooler; what the package's sentence heads read as the "pooled output" is the first half of
transformers' ``ElectraClassificationHead``: the ``[CLS]`` position through a dense layer and GELU. The heads add
dropout and the output layer, so fine-tuning, predict and export give exactly ``ElectraForSequenceClassification``
(whose head has one more dropout before that dense layer, which matters in training only).

Optional heads:

* ``use_discriminator`` -- ``ElectraForPreTraining``'s replaced-token detector: dense, the encoder's activation,
  dense to one logit per position (``(batch, length)``; positive means "replaced");
* ``use_decoder`` -- the generator's masked-LM head (``ElectraForMaskedLM``): dense to ``embed_size``, GELU,
  LayerNorm, then the output layer tied to the word embeddings.

A generator is an ``ElectraModel`` built with ``shared_embeddings=discriminator``: it uses the discriminator's
word, token-type and position embeddings and embedding LayerNorm (the same Parameter objects), as ELECTRA trains
them, and has its own (narrower) encoder.

Outputs, in order: ``sequence`` (``(batch, length, units)``), then ``pooled`` if ``use_pooler``, then the
discriminator logits if ``use_discriminator``, then the masked-LM scores at ``masked_positions`` if
``use_decoder``.
"""
from typing import Optional

from ...core.errors import InputError
from ...core.mxnet_stack import gluon, nn, nlp
from .config import OUTPUTS, ElectraConfig

__all__ = ['ElectraModel', 'ElectraEncoder', 'build_electra']


class _EmbeddingTail(gluon.HybridBlock):
    """Position embeddings, LayerNorm and dropout over the summed word and token-type embeddings (the part of
    ``ElectraEmbeddings`` that GluonNLP's BERTModel leaves to its encoder). Input and output ``(length, batch, C)``."""

    def __init__(self, max_length, embed_size, dropout, layer_norm_eps, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._max_length, self._embed_size = max_length, embed_size
        with self.name_scope():
            self.position_weight = self.params.get('position_weight', shape=(max_length, embed_size))
            self.layer_norm = nn.LayerNorm(in_channels=embed_size, epsilon=layer_norm_eps)
            self.dropout_layer = nn.Dropout(rate=dropout)

    def hybrid_forward(self, F, inputs, position_weight):  # pylint: disable=arguments-differ
        steps = F.contrib.arange_like(inputs, axis=0)
        positions = F.Embedding(steps, position_weight, self._max_length, self._embed_size)
        return self.dropout_layer(self.layer_norm(F.broadcast_add(inputs, F.expand_dims(positions, axis=1))))


class ElectraEncoder(gluon.HybridBlock):
    """The embedding tail, the projection to ``units`` (when the widths differ) and the encoder layers; called by
    GluonNLP's ``BERTModel`` exactly as its ``BERTEncoder``: ``(inputs, states=None, valid_length=None) ->
    (outputs, [])`` in ``(length, batch, C)`` layout, padding positions zeroed."""

    def __init__(self, config: ElectraConfig, output_all_encodings=False, embedding: Optional[_EmbeddingTail] = None,
                 prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._output_all_encodings = output_all_encodings
        self._layer_norm_eps = config.layer_norm_eps  # BERTModel's decoder reads it
        self._units = config.units
        with self.name_scope():
            # a shared tail is the discriminator's (the generator shares embeddings with it)
            self.embedding = embedding or _EmbeddingTail(config.max_length, config.embed_size, config.dropout,
                                                         config.layer_norm_eps, prefix='embedding_')
            self.embed_proj = (nn.Dense(config.units, flatten=False, in_units=config.embed_size, prefix='embed_proj_')
                               if config.embed_size != config.units else None)
            self.transformer_cells = nn.HybridSequential()
            for i in range(config.num_layers):
                self.transformer_cells.add(nlp.model.bert.BERTEncoderCell(
                    units=config.units, hidden_size=config.hidden_size, num_heads=config.num_heads,
                    dropout=config.dropout, output_attention=False, prefix='transformer%d_' % i,
                    activation=config.activation, layer_norm_eps=config.layer_norm_eps))

    def __call__(self, inputs, states=None, valid_length=None):  # pylint: disable=arguments-differ
        return super().__call__(inputs, states, valid_length)

    def hybrid_forward(self, F, inputs, states=None, valid_length=None):  # pylint: disable=arguments-differ
        outputs = self.embedding(inputs)
        if self.embed_proj is not None:
            outputs = self.embed_proj(outputs)
        attention_length = None
        if valid_length is not None:
            # (batch, length): every query position may attend to the first valid_length keys (GluonNLP's mask)
            steps = F.contrib.arange_like(inputs, axis=0)
            lengths = F.cast(valid_length, dtype='float32')  # batches may carry int32 lengths
            attention_length = F.cast(F.broadcast_add(F.reshape(lengths, shape=(-1, 1)),
                                                      F.reshape(F.zeros_like(steps), shape=(1, -1))), dtype='int32')
        encodings = []
        for cell in self.transformer_cells:
            outputs, _ = cell(outputs, attention_length)
            if self._output_all_encodings:
                encodings.append(outputs)
        if valid_length is not None:
            def mask(x):
                return F.SequenceMask(x, sequence_length=valid_length, use_sequence_length=True, axis=0)
            outputs = mask(outputs)
            encodings = [mask(x) for x in encodings]
        return (encodings if self._output_all_encodings else outputs), []


def _dense_activation(units, in_units, activation, prefix):
    block = nn.HybridSequential(prefix=prefix)
    with block.name_scope():
        block.add(nn.Dense(units, flatten=False, in_units=in_units))
        block.add(nn.GELU() if activation == 'gelu' else nn.Activation(activation))
    return block


class ElectraModel(nlp.model.BERTModel):
    """An ELECTRA discriminator or generator as a GluonNLP ``BERTModel`` (see the module docstring)."""

    def __init__(self, config: ElectraConfig, use_pooler=True, use_discriminator=False, use_decoder=False,
                 output_all_encodings=False, shared_embeddings: Optional['ElectraModel'] = None, prefix=None,
                 params=None):
        self._electra_config = config  # read by _get_decoder during BERTModel's constructor
        if shared_embeddings is not None:
            theirs = shared_embeddings._electra_config
            if (theirs.vocab_size, theirs.embed_size, theirs.max_length, theirs.token_type_vocab_size) != \
                    (config.vocab_size, config.embed_size, config.max_length, config.token_type_vocab_size):
                raise InputError('a generator shares the discriminator\'s embeddings, so vocab_size, embed_size, '
                                 'max_length and token_type_vocab_size must agree')
        encoder = ElectraEncoder(config, output_all_encodings,
                                 embedding=shared_embeddings.encoder.embedding if shared_embeddings else None)
        super().__init__(encoder, vocab_size=config.vocab_size, token_type_vocab_size=config.token_type_vocab_size,
                         units=config.units, embed_size=config.embed_size,
                         word_embed=shared_embeddings.word_embed if shared_embeddings else None,
                         token_type_embed=shared_embeddings.token_type_embed if shared_embeddings else None,
                         use_pooler=use_pooler, use_decoder=use_decoder, use_classifier=False, prefix=prefix,
                         params=params)
        self._use_discriminator = use_discriminator
        if use_discriminator:
            with self.name_scope():
                self.discriminator = _dense_activation(config.units, config.units, config.activation,
                                                       'discriminator_')
                self.discriminator_output = nn.Dense(1, flatten=False, in_units=config.units,
                                                     prefix='discriminator_output_')

    def _get_pooler(self, units, prefix):
        with self.name_scope():  # GELU whatever the encoder's activation, as transformers' classification head
            return _dense_activation(units, units, 'gelu', prefix)

    def _get_decoder(self, units, vocab_size, embed, prefix):
        config = self._electra_config
        with self.name_scope():
            decoder = nn.HybridSequential(prefix=prefix)
            decoder.add(nn.Dense(config.embed_size, flatten=False, in_units=config.units))
            decoder.add(nn.GELU())
            decoder.add(nn.LayerNorm(in_channels=config.embed_size, epsilon=config.layer_norm_eps))
            decoder.add(nn.Dense(vocab_size, flatten=False, in_units=config.embed_size,
                                 params=embed.collect_params()))  # tied to the word embeddings
        return decoder

    def hybrid_forward(self, F, inputs, token_types, valid_length=None, masked_positions=None):
        # pylint: disable=arguments-differ
        sequence, _ = self._encode_sequence(inputs, token_types, valid_length)
        last = sequence[-1] if isinstance(sequence, list) else sequence
        outputs = [sequence]
        if self._use_pooler:
            outputs.append(self._apply_pooling(last))
        if self._use_discriminator:
            outputs.append(F.squeeze(self.discriminator_output(self.discriminator(last)), axis=-1))
        if self._use_decoder:
            if masked_positions is None:
                raise ValueError('masked_positions is required for the masked-LM head')
            outputs.append(self._decode(F, last, masked_positions))
        return tuple(outputs) if len(outputs) > 1 else outputs[0]


def build_electra(config: ElectraConfig, use_pooler=True, use_discriminator=False, use_decoder=False,
                  output_all_encodings=False, shared_embeddings=None, prefix=None) -> ElectraModel:
    """An uninitialised ELECTRA (``use_pooler``: the classification pre-head; ``use_discriminator``: the
    replaced-token detector; ``use_decoder``: the generator's masked-LM head)."""
    model = ElectraModel(config, use_pooler=use_pooler, use_discriminator=use_discriminator, use_decoder=use_decoder,
                         output_all_encodings=output_all_encodings, shared_embeddings=shared_embeddings,
                         prefix=prefix)
    model.kobert_config = config
    model.kobert_heads = {'use_pooler': use_pooler, 'use_discriminator': use_discriminator,
                          'use_decoder': use_decoder}
    model.kobert_outputs = OUTPUTS.of(config, model.kobert_heads, output_all_encodings)
    return model
