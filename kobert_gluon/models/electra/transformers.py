"""How the ELECTRA family's transformers checkpoints (``ElectraModel``, ``ElectraForPreTraining``, ``ElectraFor...``) map onto its Gluon model: the
name tables (data) and the config both ways. Read by :mod:`kobert_gluon.convert.huggingface` through the family's
:class:`~kobert_gluon.models.transformers_names.TransformersMapping`."""
from typing import Any, Dict, List, Tuple

from ..transformers_names import (ENCODER_LAYER, TransformersMapping, check_absolute_positions, checked_activation,
                                 layer_pairs, tf_tensors)
from .config import ElectraConfig

__all__ = ['MAPPING']

ELECTRA_EMBEDDINGS: List[Tuple[str, str]] = [
    ('embeddings.word_embeddings.weight', 'word_embed.0.weight'),
    ('embeddings.position_embeddings.weight', 'encoder.embedding.position_weight'),
    ('embeddings.token_type_embeddings.weight', 'token_type_embed.0.weight'),
    ('embeddings.LayerNorm.weight', 'encoder.embedding.layer_norm.gamma'),
    ('embeddings.LayerNorm.bias', 'encoder.embedding.layer_norm.beta'),
]

# Only when the embedding width differs from the encoder's (KoELECTRA-Small: 128 -> 256).
ELECTRA_PROJECTION: List[Tuple[str, str]] = [
    ('embeddings_project.weight', 'encoder.embed_proj.weight'),
    ('embeddings_project.bias', 'encoder.embed_proj.bias'),
]

# ElectraForSequenceClassification's head: its dense layer (+ GELU) is the Gluon ELECTRA's pooler, its out_proj
# the package's sentence head output.
ELECTRA_CLASSIFICATION_DENSE: List[Tuple[str, str]] = [
    ('classifier.dense.weight', 'pooler.0.weight'),
    ('classifier.dense.bias', 'pooler.0.bias'),
]

ELECTRA_SEQUENCE_HEAD: List[Tuple[str, str]] = [
    ('classifier.out_proj.weight', 'output.weight'),
    ('classifier.out_proj.bias', 'output.bias'),
]

# ElectraForPreTraining's replaced-token detector.
ELECTRA_DISCRIMINATOR_HEAD: List[Tuple[str, str]] = [
    ('discriminator_predictions.dense.weight', 'discriminator.0.weight'),
    ('discriminator_predictions.dense.bias', 'discriminator.0.bias'),
    ('discriminator_predictions.dense_prediction.weight', 'discriminator_output.weight'),
    ('discriminator_predictions.dense_prediction.bias', 'discriminator_output.bias'),
]


# ElectraForMaskedLM's head (a generator): dense to the embedding width, GELU, LayerNorm, then the output layer tied
# to the word embeddings -> the Gluon ELECTRA's decoder.
ELECTRA_GENERATOR_HEAD: List[Tuple[str, str]] = [
    ('generator_predictions.dense.weight', 'decoder.0.weight'),
    ('generator_predictions.dense.bias', 'decoder.0.bias'),
    ('generator_predictions.LayerNorm.weight', 'decoder.2.gamma'),
    ('generator_predictions.LayerNorm.bias', 'decoder.2.beta'),
    ('generator_lm_head.bias', 'decoder.3.bias'),
]

ELECTRA_TIED: List[Tuple[str, str]] = [
    ('generator_lm_head.weight', 'electra.embeddings.word_embeddings.weight'),
]


def electra_backbone_map(num_layers: int, projection: bool) -> Dict[str, str]:
    """transformers name -> Gluon name for every ELECTRA backbone tensor (``projection``: the embedding width
    differs from the encoder's)."""
    pairs = list(ELECTRA_EMBEDDINGS) + (list(ELECTRA_PROJECTION) if projection else [])
    pairs += layer_pairs(ENCODER_LAYER, num_layers)
    return dict(pairs)



def _electra_config(hf: Dict[str, Any], path) -> ElectraConfig:
    check_absolute_positions(hf, path)
    return ElectraConfig(vocab_size=hf['vocab_size'], num_layers=hf['num_hidden_layers'], units=hf['hidden_size'],
                         hidden_size=hf['intermediate_size'], max_length=hf['max_position_embeddings'],
                         num_heads=hf['num_attention_heads'], embed_size=hf.get('embedding_size', hf['hidden_size']),
                         token_type_vocab_size=hf.get('type_vocab_size', 2), activation=checked_activation(hf, path),
                         dropout=hf.get('hidden_dropout_prob', 0.1), layer_norm_eps=hf.get('layer_norm_eps', 1e-12))


def _electra_hf_config(config: ElectraConfig) -> Dict[str, Any]:
    return {'model_type': 'electra', 'vocab_size': config.vocab_size, 'embedding_size': config.embed_size,
            'hidden_size': config.units, 'num_hidden_layers': config.num_layers,
            'num_attention_heads': config.num_heads, 'intermediate_size': config.hidden_size,
            'hidden_act': config.activation, 'hidden_dropout_prob': config.dropout,
            'attention_probs_dropout_prob': config.dropout, 'max_position_embeddings': config.max_length,
            'type_vocab_size': config.token_type_vocab_size, 'initializer_range': 0.02,
            'layer_norm_eps': config.layer_norm_eps, 'position_embedding_type': 'absolute',
            'tie_word_embeddings': True}


def _from_tf(variables: Dict[str, Any], part: str) -> Tuple[Dict[str, Any], str]:
    """A checkpoint of the original ELECTRA code, which holds both models: the discriminator under ``electra/`` with
    ``discriminator_predictions`` (its second dense layer ``dense_1``), the generator under ``generator/`` with
    ``generator_predictions`` (its output bias is transformers' ``generator_lm_head``), the embeddings under
    ``electra/embeddings`` shared by both. ``part``: which one to read."""
    renamed = {}
    for name, array in variables.items():
        if part == 'generator':
            if name.startswith('electra/') and not name.startswith('electra/embeddings/'):
                continue  # the discriminator's own layers
            if name.startswith('generator/'):
                name = 'electra/' + name[len('generator/'):]
            elif name.startswith('discriminator_predictions/'):
                continue
            name = name.replace('generator_predictions/output_bias', 'generator_lm_head/bias')
        else:
            if name.startswith(('generator/', 'generator_predictions/')):
                continue
            name = name.replace('discriminator_predictions/dense_1/', 'discriminator_predictions/dense_prediction/')
        renamed[name] = array
    tensors = tf_tensors(renamed)
    if part == 'generator':
        return tensors, 'masked_lm' if 'generator_lm_head.bias' in tensors else 'base'
    return tensors, 'lm' if 'discriminator_predictions.dense.weight' in tensors else 'base'


MAPPING = TransformersMapping(
    model_type='electra', architecture='electra', prefix='electra.',
    classes={'base': 'ElectraModel', 'lm': 'ElectraForPreTraining', 'masked_lm': 'ElectraForMaskedLM',
             'classification': 'ElectraForSequenceClassification',
             'token_classification': 'ElectraForTokenClassification',
             'question_answering': 'ElectraForQuestionAnswering'},
    config_from_hf=_electra_config, hf_config=_electra_hf_config,
    backbone_map=lambda config: electra_backbone_map(config.num_layers, config.embed_size != config.units),
    pooler=ELECTRA_CLASSIFICATION_DENSE, pooler_in_backbone=False,
    lm_head=ELECTRA_DISCRIMINATOR_HEAD, sequence_head=ELECTRA_SEQUENCE_HEAD, tied=ELECTRA_TIED,
    lm_heads={'use_pooler': False, 'use_discriminator': True, 'use_decoder': False},
    masked_lm_head=ELECTRA_GENERATOR_HEAD,
    masked_lm_heads={'use_pooler': False, 'use_discriminator': False, 'use_decoder': True},
    classifier_dropout_key='classifier_dropout', classifier_dropout_fallback=('hidden_dropout_prob', 0.1),
    token_dropout_key='classifier_dropout', token_dropout_fallback=('hidden_dropout_prob', 0.1),
    tf_checkpoint=_from_tf, tf_parts=('discriminator', 'generator'),
)
