"""The BERT family (KoBERT): GluonNLP's ``BERTModel``, its transformers mapping and KoBERT-base.

``config`` (BertConfig, plain data), ``model`` (``build_bert``: the MXNet block), ``transformers`` (``BertModel``,
``BertForPreTraining``, ``BertFor...`` both ways), ``catalogue`` (``kobert-base``). Importing this package
registers the family (:func:`kobert_gluon.models.family_registry.register_family`); MXNet loads only when a model
is built.
"""
from ..architecture_registry import Architecture
from ..family_registry import ModelFamily, register_family
from . import catalogue, transformers
from .config import KOBERT_BASE_CONFIG, OUTPUTS, SHAPE_FIELDS, BertConfig

__all__ = ['BertConfig', 'KOBERT_BASE_CONFIG', 'SHAPE_FIELDS', 'build_bert', 'FAMILY']


def build_bert(config: BertConfig, use_pooler=True, use_decoder=True, use_classifier=True, **options):
    """An uninitialised GluonNLP ``BERTModel`` of ``config`` (:func:`.model.build_bert`)."""
    from .model import build_bert as build
    return build(config, use_pooler=use_pooler, use_decoder=use_decoder, use_classifier=use_classifier, **options)


FAMILY = register_family(ModelFamily(
    name='bert',
    architecture=Architecture(
        'bert', BertConfig, build_bert, SHAPE_FIELDS, ('use_pooler', 'use_decoder', 'use_classifier'),
        'GluonNLP BERTModel (KoBERT): token, segment and learned position embeddings, post-LayerNorm encoder, '
        'tanh pooler; MLM decoder and next-sentence classifier as optional heads', outputs=OUTPUTS),
    transformers=transformers.MAPPING,
    models=catalogue.MODELS,
))
