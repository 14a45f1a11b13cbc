"""How the BERT family's transformers checkpoints (``BertModel``, ``BertForPreTraining``, ``BertFor...``) map onto its Gluon model: the
name tables (data) and the config both ways. Read by :mod:`kobert_gluon.convert.huggingface` through the family's
:class:`~kobert_gluon.models.transformers_names.TransformersMapping`."""
from typing import Any, Dict, List, Tuple

from ...core.errors import InputError
from ..transformers_names import (ENCODER_LAYER, TransformersMapping, check_absolute_positions, checked_activation,
                                 layer_pairs, tf_tensors)
from .config import BertConfig

__all__ = ['MAPPING']

BERT_EMBEDDINGS: List[Tuple[str, str]] = [
    ('embeddings.word_embeddings.weight', 'word_embed.0.weight'),
    ('embeddings.position_embeddings.weight', 'encoder.position_weight'),
    ('embeddings.token_type_embeddings.weight', 'token_type_embed.0.weight'),
    ('embeddings.LayerNorm.weight', 'encoder.layer_norm.gamma'),
    ('embeddings.LayerNorm.bias', 'encoder.layer_norm.beta'),
]

BERT_POOLER: List[Tuple[str, str]] = [
    ('pooler.dense.weight', 'pooler.weight'),
    ('pooler.dense.bias', 'pooler.bias'),
]

# BertForMaskedLM's head (names as transformers writes them, no prefix) -> the BERTModel's decoder.
BERT_MLM_HEAD: List[Tuple[str, str]] = [
    ('cls.predictions.transform.dense.weight', 'decoder.0.weight'),
    ('cls.predictions.transform.dense.bias', 'decoder.0.bias'),
    ('cls.predictions.transform.LayerNorm.weight', 'decoder.2.gamma'),
    ('cls.predictions.transform.LayerNorm.bias', 'decoder.2.beta'),
    ('cls.predictions.bias', 'decoder.3.bias'),
]

# BertForPreTraining's heads -> the BERTModel's own heads: the same decoder and the next-sentence classifier.
BERT_PRETRAINING_HEADS: List[Tuple[str, str]] = BERT_MLM_HEAD + [
    ('cls.seq_relationship.weight', 'classifier.weight'),
    ('cls.seq_relationship.bias', 'classifier.bias'),
]

# Tensors transformers may also write that are tied to one above: (tied name, the name it must equal).
BERT_TIED: List[Tuple[str, str]] = [
    ('cls.predictions.decoder.weight', 'bert.embeddings.word_embeddings.weight'),
    ('cls.predictions.decoder.bias', 'cls.predictions.bias'),
]

# BertForSequenceClassification's head -> kobert_gluon's SequenceClassifier / SequenceRegressor (``output``).
BERT_SEQUENCE_HEAD: List[Tuple[str, str]] = [
    ('classifier.weight', 'output.weight'),
    ('classifier.bias', 'output.bias'),
]


def bert_backbone_map(num_layers: int, pooler: bool = True) -> Dict[str, str]:
    """transformers name -> Gluon name for every backbone tensor of a ``num_layers`` BERT."""
    pairs = list(BERT_EMBEDDINGS) + layer_pairs(ENCODER_LAYER, num_layers)
    if pooler:
        pairs += BERT_POOLER
    return dict(pairs)



def _bert_config(hf: Dict[str, Any], path) -> BertConfig:
    check_absolute_positions(hf, path)
    return BertConfig(vocab_size=hf['vocab_size'], num_layers=hf['num_hidden_layers'], units=hf['hidden_size'],
                      hidden_size=hf['intermediate_size'], max_length=hf['max_position_embeddings'],
                      num_heads=hf['num_attention_heads'], embed_size=hf['hidden_size'],
                      token_type_vocab_size=hf.get('type_vocab_size', 2), activation=checked_activation(hf, path),
                      dropout=hf.get('hidden_dropout_prob', 0.1), embed_dropout=hf.get('hidden_dropout_prob', 0.1),
                      layer_norm_eps=hf.get('layer_norm_eps', 1e-12))


def _bert_hf_config(config: BertConfig) -> Dict[str, Any]:
    return {'model_type': 'bert', 'vocab_size': config.vocab_size, 'hidden_size': config.units,
            'num_hidden_layers': config.num_layers, 'num_attention_heads': config.num_heads,
            'intermediate_size': config.hidden_size, 'hidden_act': config.activation,
            'hidden_dropout_prob': config.dropout, 'attention_probs_dropout_prob': config.dropout,
            'max_position_embeddings': config.max_length, 'type_vocab_size': config.token_type_vocab_size,
            'initializer_range': 0.02, 'layer_norm_eps': config.layer_norm_eps,
            'position_embedding_type': 'absolute', 'tie_word_embeddings': True}


def _from_tf(variables: Dict[str, Any], part: str) -> Tuple[Dict[str, Any], str]:
    """A checkpoint of Google's BERT code: ``bert/...`` and, from run_pretraining, ``cls/predictions`` (MLM) and
    ``cls/seq_relationship`` (NSP)."""
    heads = sorted(name for name in variables if name.split('/')[0] in ('output_weights', 'output_bias', 'cls')
                   and name.split('/')[:2] not in (['cls', 'predictions'], ['cls', 'seq_relationship']))
    if heads:  # run_classifier.py / run_squad.py heads: their labels are not in the checkpoint
        raise InputError('the checkpoint holds a task head of Google\'s fine-tuning scripts ({}); import-tf reads '
                         'the pretraining checkpoints (bert/ with cls/predictions and cls/seq_relationship): convert '
                         'the pretrained checkpoint and fine-tune it here'.format(', '.join(heads[:4])))
    tensors = tf_tensors(variables)
    if 'cls.seq_relationship.weight' in tensors:
        return tensors, 'lm'
    return tensors, 'masked_lm' if 'cls.predictions.bias' in tensors else 'base'


MAPPING = TransformersMapping(
    model_type='bert', architecture='bert', prefix='bert.',
    classes={'base': 'BertModel', 'lm': 'BertForPreTraining', 'masked_lm': 'BertForMaskedLM',
             'classification': 'BertForSequenceClassification', 'token_classification': 'BertForTokenClassification',
             'question_answering': 'BertForQuestionAnswering'},
    config_from_hf=_bert_config, hf_config=_bert_hf_config,
    backbone_map=lambda config: bert_backbone_map(config.num_layers, pooler=False),
    pooler=BERT_POOLER, pooler_in_backbone=True,
    lm_head=BERT_PRETRAINING_HEADS, sequence_head=BERT_SEQUENCE_HEAD, tied=BERT_TIED,
    lm_heads={'use_pooler': True, 'use_decoder': True, 'use_classifier': True},
    masked_lm_head=BERT_MLM_HEAD, masked_lm_heads={'use_pooler': False, 'use_decoder': True, 'use_classifier': False},
    classifier_dropout_key='classifier_dropout', classifier_dropout_fallback=('hidden_dropout_prob', 0.1),
    token_dropout_key='classifier_dropout', token_dropout_fallback=('hidden_dropout_prob', 0.1),
    tf_checkpoint=_from_tf,
)
