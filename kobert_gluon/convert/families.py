"""The model families that convert to and from transformers: for each, its config both ways, which transformers
classes map to which Gluon model, and the name plan that joins them (built from the tables in :mod:`.name_maps`).

A *kind* says which transformers class a checkpoint is: ``base`` (``BertModel``, ``DistilBertModel``), ``lm``
(``BertForPreTraining``: MLM + NSP; ``DistilBertForMaskedLM``), ``classification`` (``...ForSequenceClassification``,
classification or regression), ``token_classification`` (``...ForTokenClassification``) or ``question_answering``
(``...ForQuestionAnswering``). Gluon task heads keep the backbone under ``bert.``; transformers keeps it under the
family's prefix (``bert.``, ``distilbert.``) in every class but the base one. The last two kinds read every position,
so their backbone has no pooler on either side (transformers builds them with ``add_pooling_layer=False``).
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..core.errors import InputError
from ..models.bert import BertConfig
from ..models.distilbert import DistilBertConfig
from ..models.electra import ElectraConfig
from . import name_maps

__all__ = ['Family', 'FAMILIES', 'family_of_checkpoint', 'family_of_architecture', 'KINDS', 'HEAD_KINDS',
           'TOKEN_KINDS', 'kind_of_head']

KINDS = ('base', 'lm', 'classification', 'token_classification', 'question_answering')
# The kinds whose Gluon model is a task head over a backbone kept as ``bert.`` (a base or lm model is the backbone)
HEAD_KINDS = ('classification', 'token_classification', 'question_answering')
# The kinds whose head reads every position: a backbone without a pooler
TOKEN_KINDS = ('token_classification', 'question_answering')
# The Gluon head a model folder names (``task.kind``, see kobert_gluon.heads.registry) -> the kind it converts as
_KIND_OF_HEAD = {'classifier': 'classification', 'regressor': 'classification',
                 'token_classifier': 'token_classification', 'span_extractor': 'question_answering'}


@dataclass(frozen=True)
class Family:
    model_type: str                        # transformers' config.model_type
    architecture: str                      # the Gluon architecture (models.registry)
    prefix: str                            # where transformers' task classes keep the backbone
    classes: Dict[str, str]                # kind -> transformers class name
    config_from_hf: Callable[[Dict[str, Any], Any], Any]
    hf_config: Callable[[Any], Dict[str, Any]]
    backbone_map: Callable[[Any], Dict[str, str]]  # the Gluon config -> its backbone's name plan
    pooler: List[Tuple[str, str]]          # transformers -> Gluon names of what the Gluon model calls its pooler
    pooler_in_backbone: bool               # under the backbone prefix (BERT's pooler) or in the head (pre_classifier)
    lm_head: List[Tuple[str, str]]
    sequence_head: List[Tuple[str, str]]
    tied: List[Tuple[str, str]]
    lm_heads: Dict[str, bool]              # the Gluon optional heads of the lm kind
    classifier_dropout_key: str            # the config key of the classification head's dropout
    classifier_dropout_fallback: Tuple[str, float]  # (key, default) read when that one is absent or null
    token_dropout_key: str                 # the config key of the token classification head's dropout
    token_dropout_fallback: Tuple[str, float]
    token_head: List[Tuple[str, str]]      # ...ForTokenClassification's classifier -> TokenClassifier.output
    span_head: List[Tuple[str, str]]       # ...ForQuestionAnswering's qa_outputs -> SpanExtractor.output

    def classifier_dropout(self, hf: Dict[str, Any]) -> float:
        """The dropout transformers' classification head of this family uses for the config ``hf``."""
        value = hf.get(self.classifier_dropout_key)
        return value if value is not None else hf.get(*self.classifier_dropout_fallback)

    def token_dropout(self, hf: Dict[str, Any]) -> float:
        """The dropout before transformers' token classification head of this family, for the config ``hf``."""
        value = hf.get(self.token_dropout_key)
        return value if value is not None else hf.get(*self.token_dropout_fallback)

    def kind_of_class(self, name: str) -> Optional[str]:
        return next((kind for kind, cls in self.classes.items() if cls == name), None)

    def pooler_names(self, prefixed: bool) -> List[str]:
        """The transformers names of what the Gluon model calls its pooler, as a checkpoint would hold them."""
        prefix = self.prefix if prefixed and self.pooler_in_backbone else ''
        return [prefix + hf for hf, _ in self.pooler]

    def pooler_probe(self, prefixed: bool) -> str:
        return self.pooler_names(prefixed)[0]

    def plan(self, kind: str, config, has_pooler: bool, prefixed: bool) -> Dict[str, str]:
        """transformers name -> Gluon name of every tensor of a ``kind`` checkpoint of a model of ``config``."""
        hf_prefix = self.prefix if prefixed else ''
        gluon_prefix = 'bert.' if kind in HEAD_KINDS else ''
        plan = {hf_prefix + hf: gluon_prefix + gluon for hf, gluon in self.backbone_map(config).items()}
        if has_pooler and kind not in TOKEN_KINDS:
            pooler_prefix = hf_prefix if self.pooler_in_backbone else ''
            plan.update({pooler_prefix + hf: gluon_prefix + gluon for hf, gluon in self.pooler})
        head = {'lm': self.lm_head, 'classification': self.sequence_head, 'token_classification': self.token_head,
                'question_answering': self.span_head}.get(kind, ())
        plan.update(head)
        return plan

    def backbone_heads(self, kind: str, has_pooler: bool) -> Dict[str, bool]:
        """The Gluon architecture's optional heads for a ``kind`` model."""
        if kind == 'lm':
            return dict(self.lm_heads)
        heads = {name: False for name in self.lm_heads}
        heads['use_pooler'] = kind not in TOKEN_KINDS and (has_pooler or kind == 'classification')
        return heads


def _checked(hf: Dict[str, Any], path, supported_activations=('gelu', 'relu'), key='hidden_act') -> str:
    activation = hf.get(key, 'gelu')
    if activation not in supported_activations:
        raise InputError('{}: {} {!r} is not supported (the Gluon encoder has the exact "gelu" and "relu")'
                         .format(path, key, activation))
    return activation


def _check_absolute_positions(hf: Dict[str, Any], path) -> None:
    if hf.get('position_embedding_type', 'absolute') != 'absolute':
        raise InputError('{}: position_embedding_type {!r} is not supported (only "absolute")'
                         .format(path, hf.get('position_embedding_type')))


def _bert_config(hf: Dict[str, Any], path) -> BertConfig:
    _check_absolute_positions(hf, path)
    return BertConfig(vocab_size=hf['vocab_size'], num_layers=hf['num_hidden_layers'], units=hf['hidden_size'],
                      hidden_size=hf['intermediate_size'], max_length=hf['max_position_embeddings'],
                      num_heads=hf['num_attention_heads'], embed_size=hf['hidden_size'],
                      token_type_vocab_size=hf.get('type_vocab_size', 2), activation=_checked(hf, path),
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


def _distilbert_config(hf: Dict[str, Any], path) -> DistilBertConfig:
    return DistilBertConfig(vocab_size=hf['vocab_size'], num_layers=hf['n_layers'], units=hf['dim'],
                            hidden_size=hf['hidden_dim'], max_length=hf['max_position_embeddings'],
                            num_heads=hf['n_heads'], dropout=hf.get('dropout', 0.1),
                            activation=_checked(hf, path, key='activation'),
                            sinusoidal_positions=bool(hf.get('sinusoidal_pos_embds', False)))


def _distilbert_hf_config(config: DistilBertConfig) -> Dict[str, Any]:
    # transformers' DistilBERT LayerNorms have a fixed epsilon of 1e-12, as DistilBertConfig's default here
    return {'model_type': 'distilbert', 'vocab_size': config.vocab_size, 'dim': config.units,
            'n_layers': config.num_layers, 'n_heads': config.num_heads, 'hidden_dim': config.hidden_size,
            'max_position_embeddings': config.max_length, 'dropout': config.dropout,
            'attention_dropout': config.dropout, 'activation': config.activation,
            'sinusoidal_pos_embds': config.sinusoidal_positions, 'initializer_range': 0.02,
            'tie_word_embeddings': True}


BERT = Family(
    model_type='bert', architecture='bert', prefix='bert.',
    classes={'base': 'BertModel', 'lm': 'BertForPreTraining', 'classification': 'BertForSequenceClassification',
             'token_classification': 'BertForTokenClassification', 'question_answering': 'BertForQuestionAnswering'},
    config_from_hf=_bert_config, hf_config=_bert_hf_config,
    backbone_map=lambda config: name_maps.bert_backbone_map(config.num_layers, pooler=False),
    pooler=name_maps.BERT_POOLER, pooler_in_backbone=True,
    lm_head=name_maps.BERT_PRETRAINING_HEADS, sequence_head=name_maps.BERT_SEQUENCE_HEAD, tied=name_maps.BERT_TIED,
    lm_heads={'use_pooler': True, 'use_decoder': True, 'use_classifier': True},
    classifier_dropout_key='classifier_dropout', classifier_dropout_fallback=('hidden_dropout_prob', 0.1),
    token_dropout_key='classifier_dropout', token_dropout_fallback=('hidden_dropout_prob', 0.1),
    token_head=name_maps.TOKEN_CLASSIFIER_HEAD, span_head=name_maps.QUESTION_ANSWERING_HEAD,
)

DISTILBERT = Family(
    model_type='distilbert', architecture='distilbert', prefix='distilbert.',
    classes={'base': 'DistilBertModel', 'lm': 'DistilBertForMaskedLM',
             'classification': 'DistilBertForSequenceClassification',
             'token_classification': 'DistilBertForTokenClassification',
             'question_answering': 'DistilBertForQuestionAnswering'},
    config_from_hf=_distilbert_config, hf_config=_distilbert_hf_config,
    backbone_map=lambda config: name_maps.distilbert_backbone_map(config.num_layers),
    pooler=name_maps.DISTILBERT_PRE_CLASSIFIER, pooler_in_backbone=False,
    lm_head=name_maps.DISTILBERT_MLM_HEAD, sequence_head=name_maps.BERT_SEQUENCE_HEAD,
    tied=name_maps.DISTILBERT_TIED,
    lm_heads={'use_pooler': False, 'use_decoder': True},
    classifier_dropout_key='seq_classif_dropout', classifier_dropout_fallback=('seq_classif_dropout', 0.2),
    # DistilBertForTokenClassification's dropout is the encoder's own ``dropout`` (it has no key of its own)
    token_dropout_key='dropout', token_dropout_fallback=('dropout', 0.1),
    token_head=name_maps.TOKEN_CLASSIFIER_HEAD, span_head=name_maps.QUESTION_ANSWERING_HEAD,
)

def _electra_config(hf: Dict[str, Any], path) -> ElectraConfig:
    _check_absolute_positions(hf, path)
    return ElectraConfig(vocab_size=hf['vocab_size'], num_layers=hf['num_hidden_layers'], units=hf['hidden_size'],
                         hidden_size=hf['intermediate_size'], max_length=hf['max_position_embeddings'],
                         num_heads=hf['num_attention_heads'], embed_size=hf.get('embedding_size', hf['hidden_size']),
                         token_type_vocab_size=hf.get('type_vocab_size', 2), activation=_checked(hf, path),
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


ELECTRA = Family(
    model_type='electra', architecture='electra', prefix='electra.',
    classes={'base': 'ElectraModel', 'lm': 'ElectraForPreTraining',
             'classification': 'ElectraForSequenceClassification',
             'token_classification': 'ElectraForTokenClassification',
             'question_answering': 'ElectraForQuestionAnswering'},
    config_from_hf=_electra_config, hf_config=_electra_hf_config,
    backbone_map=lambda config: name_maps.electra_backbone_map(config.num_layers,
                                                               config.embed_size != config.units),
    pooler=name_maps.ELECTRA_CLASSIFICATION_DENSE, pooler_in_backbone=False,
    lm_head=name_maps.ELECTRA_DISCRIMINATOR_HEAD, sequence_head=name_maps.ELECTRA_SEQUENCE_HEAD, tied=[],
    lm_heads={'use_pooler': False, 'use_discriminator': True, 'use_decoder': False},
    classifier_dropout_key='classifier_dropout', classifier_dropout_fallback=('hidden_dropout_prob', 0.1),
    token_dropout_key='classifier_dropout', token_dropout_fallback=('hidden_dropout_prob', 0.1),
    token_head=name_maps.TOKEN_CLASSIFIER_HEAD, span_head=name_maps.QUESTION_ANSWERING_HEAD,
)

FAMILIES = {family.model_type: family for family in (BERT, DISTILBERT, ELECTRA)}


def family_of_checkpoint(hf: Dict[str, Any], path) -> Tuple[Family, str]:
    """``(family, kind)`` of a transformers config."""
    family = FAMILIES.get(hf.get('model_type'))
    if family is None:
        raise InputError('{} describes a {!r} model; import-hf reads {} checkpoints'.format(
            path, hf.get('model_type'), ' and '.join('model_type "{}"'.format(t) for t in FAMILIES)))
    names = hf.get('architectures') or [family.classes['base']]
    kinds = [family.kind_of_class(name) for name in names]
    kind = next((k for k in kinds if k is not None), None)
    if kind is None:
        raise InputError('{}: architecture {} is not supported; import-hf reads {}'.format(
            path, ', '.join(names), ', '.join(c for f in FAMILIES.values() for c in f.classes.values())))
    return family, kind


def kind_of_head(head_kind: str) -> str:
    """The kind a model folder with the Gluon head ``head_kind`` (its ``task.kind``) converts as."""
    kind = _KIND_OF_HEAD.get(head_kind)
    if kind is None:
        raise InputError('export-hf writes the heads {}, not a {!r} head'.format(', '.join(sorted(_KIND_OF_HEAD)),
                                                                               head_kind))
    return kind


def family_of_architecture(name: str) -> Family:
    for family in FAMILIES.values():
        if family.architecture == name:
            return family
    raise InputError('export-hf writes {} models, not {!r}'.format(
        ' and '.join(f.architecture for f in FAMILIES.values()), name))
