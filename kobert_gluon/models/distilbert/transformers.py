"""How the DistilBERT family's transformers checkpoints (``DistilBertModel``, ``DistilBertForMaskedLM``, ``DistilBertFor...``) map onto its Gluon model: the
name tables (data) and the config both ways. Read by :mod:`kobert_gluon.convert.huggingface` through the family's
:class:`~kobert_gluon.models.transformers_names.TransformersMapping`."""
from typing import Any, Dict, List, Tuple

from ..transformers_names import (TransformersMapping, checked_activation)
from .config import DistilBertConfig

__all__ = ['MAPPING']

DISTILBERT_EMBEDDINGS: List[Tuple[str, str]] = [
    ('embeddings.word_embeddings.weight', 'word_embed.0.weight'),
    ('embeddings.position_embeddings.weight', 'encoder.position_weight'),
    ('embeddings.LayerNorm.weight', 'encoder.layer_norm.gamma'),
    ('embeddings.LayerNorm.bias', 'encoder.layer_norm.beta'),
]

DISTILBERT_LAYER: List[Tuple[str, str]] = [
    ('transformer.layer.{i}.attention.q_lin.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_query.weight'),
    ('transformer.layer.{i}.attention.q_lin.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_query.bias'),
    ('transformer.layer.{i}.attention.k_lin.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_key.weight'),
    ('transformer.layer.{i}.attention.k_lin.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_key.bias'),
    ('transformer.layer.{i}.attention.v_lin.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_value.weight'),
    ('transformer.layer.{i}.attention.v_lin.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_value.bias'),
    ('transformer.layer.{i}.attention.out_lin.weight', 'encoder.transformer_cells.{i}.proj.weight'),
    ('transformer.layer.{i}.attention.out_lin.bias', 'encoder.transformer_cells.{i}.proj.bias'),
    ('transformer.layer.{i}.sa_layer_norm.weight', 'encoder.transformer_cells.{i}.layer_norm.gamma'),
    ('transformer.layer.{i}.sa_layer_norm.bias', 'encoder.transformer_cells.{i}.layer_norm.beta'),
    ('transformer.layer.{i}.ffn.lin1.weight', 'encoder.transformer_cells.{i}.ffn.ffn_1.weight'),
    ('transformer.layer.{i}.ffn.lin1.bias', 'encoder.transformer_cells.{i}.ffn.ffn_1.bias'),
    ('transformer.layer.{i}.ffn.lin2.weight', 'encoder.transformer_cells.{i}.ffn.ffn_2.weight'),
    ('transformer.layer.{i}.ffn.lin2.bias', 'encoder.transformer_cells.{i}.ffn.ffn_2.bias'),
    ('transformer.layer.{i}.output_layer_norm.weight', 'encoder.transformer_cells.{i}.ffn.layer_norm.gamma'),
    ('transformer.layer.{i}.output_layer_norm.bias', 'encoder.transformer_cells.{i}.ffn.layer_norm.beta'),
]

# DistilBertForSequenceClassification's pre-classifier (no prefix in transformers) is the Gluon DistilBERT's pooler.
# DistilBertForSequenceClassification's classifier -> the package's sentence head output (BERT's names).
DISTILBERT_SEQUENCE_HEAD: List[Tuple[str, str]] = [
    ('classifier.weight', 'output.weight'),
    ('classifier.bias', 'output.bias'),
]

DISTILBERT_PRE_CLASSIFIER: List[Tuple[str, str]] = [
    ('pre_classifier.weight', 'pooler.weight'),
    ('pre_classifier.bias', 'pooler.bias'),
]

# DistilBertForMaskedLM's head -> the Gluon DistilBERT's decoder (GluonNLP's BERT decoder layout).
DISTILBERT_MLM_HEAD: List[Tuple[str, str]] = [
    ('vocab_transform.weight', 'decoder.0.weight'),
    ('vocab_transform.bias', 'decoder.0.bias'),
    ('vocab_layer_norm.weight', 'decoder.2.gamma'),
    ('vocab_layer_norm.bias', 'decoder.2.beta'),
    ('vocab_projector.bias', 'decoder.3.bias'),
]

DISTILBERT_TIED: List[Tuple[str, str]] = [
    ('vocab_projector.weight', 'distilbert.embeddings.word_embeddings.weight'),
]


def distilbert_backbone_map(num_layers: int) -> Dict[str, str]:
    """transformers name -> Gluon name for every DistilBERT backbone tensor (the pre-classifier, which transformers
    keeps in the classification head, is :data:`DISTILBERT_PRE_CLASSIFIER`)."""
    pairs = list(DISTILBERT_EMBEDDINGS)
    for i in range(num_layers):
        pairs += [(hf.format(i=i), gluon.format(i=i)) for hf, gluon in DISTILBERT_LAYER]
    return dict(pairs)



def _distilbert_config(hf: Dict[str, Any], path) -> DistilBertConfig:
    return DistilBertConfig(vocab_size=hf['vocab_size'], num_layers=hf['n_layers'], units=hf['dim'],
                            hidden_size=hf['hidden_dim'], max_length=hf['max_position_embeddings'],
                            num_heads=hf['n_heads'], dropout=hf.get('dropout', 0.1),
                            activation=checked_activation(hf, path, key='activation'),
                            sinusoidal_positions=bool(hf.get('sinusoidal_pos_embds', False)))


def _distilbert_hf_config(config: DistilBertConfig) -> Dict[str, Any]:
    # transformers' DistilBERT LayerNorms have a fixed epsilon of 1e-12, as DistilBertConfig's default here
    return {'model_type': 'distilbert', 'vocab_size': config.vocab_size, 'dim': config.units,
            'n_layers': config.num_layers, 'n_heads': config.num_heads, 'hidden_dim': config.hidden_size,
            'max_position_embeddings': config.max_length, 'dropout': config.dropout,
            'attention_dropout': config.dropout, 'activation': config.activation,
            'sinusoidal_pos_embds': config.sinusoidal_positions, 'initializer_range': 0.02,
            'tie_word_embeddings': True}


MAPPING = TransformersMapping(
    model_type='distilbert', architecture='distilbert', prefix='distilbert.',
    classes={'base': 'DistilBertModel', 'masked_lm': 'DistilBertForMaskedLM',
             'classification': 'DistilBertForSequenceClassification',
             'token_classification': 'DistilBertForTokenClassification',
             'question_answering': 'DistilBertForQuestionAnswering'},
    config_from_hf=_distilbert_config, hf_config=_distilbert_hf_config,
    backbone_map=lambda config: distilbert_backbone_map(config.num_layers),
    pooler=DISTILBERT_PRE_CLASSIFIER, pooler_in_backbone=False,
    lm_head=[], sequence_head=DISTILBERT_SEQUENCE_HEAD,
    tied=DISTILBERT_TIED,
    lm_heads={}, masked_lm_head=DISTILBERT_MLM_HEAD, masked_lm_heads={'use_pooler': False, 'use_decoder': True},
    classifier_dropout_key='seq_classif_dropout', classifier_dropout_fallback=('seq_classif_dropout', 0.2),
    # DistilBertForTokenClassification's dropout is the encoder's own ``dropout`` (it has no key of its own)
    token_dropout_key='dropout', token_dropout_fallback=('dropout', 0.1),
)
