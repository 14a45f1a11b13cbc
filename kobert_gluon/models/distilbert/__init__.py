"""The DistilBERT family (DistilKoBERT): BERT's layers without token types, its transformers mapping and
``distilkobert``.

``config`` (DistilBertConfig), ``model`` (``build_distilbert``), ``transformers`` (``DistilBertModel``,
``DistilBertForMaskedLM``, ``DistilBertFor...``), ``catalogue``. Importing this package registers the family.
"""
from ..architecture_registry import Architecture
from ..family_registry import ModelFamily, register_family
from . import catalogue, transformers
from .config import DISTILKOBERT_CONFIG, OUTPUTS, SHAPE_FIELDS, DistilBertConfig

__all__ = ['DistilBertConfig', 'DISTILKOBERT_CONFIG', 'SHAPE_FIELDS', 'build_distilbert', 'FAMILY']


def build_distilbert(config: DistilBertConfig, use_pooler=True, use_decoder=False, **options):
    """An uninitialised DistilBERT of ``config`` (:func:`.model.build_distilbert`)."""
    from .model import build_distilbert as build
    return build(config, use_pooler=use_pooler, use_decoder=use_decoder, **options)


FAMILY = register_family(ModelFamily(
    name='distilbert',
    architecture=Architecture(
        'distilbert', DistilBertConfig, build_distilbert, SHAPE_FIELDS, ('use_pooler', 'use_decoder'),
        'DistilBERT (DistilKoBERT): word and position embeddings (no token types), post-LayerNorm encoder; its ReLU '
        'pre-classifier as the pooler; masked-LM decoder as an optional head', outputs=OUTPUTS),
    transformers=transformers.MAPPING,
    models=catalogue.MODELS,
))
