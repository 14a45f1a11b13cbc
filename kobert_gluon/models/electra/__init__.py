"""The ELECTRA family (KoELECTRA): BERT's encoder with its own embedding width, the discriminator and generator
heads, its transformers mapping and the KoELECTRA v3 discriminators.

``config`` (ElectraConfig), ``model`` (``build_electra``), ``transformers`` (``ElectraModel``,
``ElectraForPreTraining``, ``ElectraFor...``), ``catalogue``. Its pretraining objective (replaced-token detection) is
a training task, so it lives above the models layer, in :mod:`kobert_gluon.pretraining.electra`. Importing this
package registers the family.
"""
from ..architecture_registry import Architecture
from ..family_registry import ModelFamily, register_family
from . import catalogue, transformers
from .config import KOELECTRA_BASE_V3_CONFIG, KOELECTRA_SMALL_V3_CONFIG, OUTPUTS, SHAPE_FIELDS, ElectraConfig

__all__ = ['ElectraConfig', 'KOELECTRA_SMALL_V3_CONFIG', 'KOELECTRA_BASE_V3_CONFIG', 'SHAPE_FIELDS',
           'build_electra', 'FAMILY']


def build_electra(config: ElectraConfig, use_pooler=True, use_discriminator=False, use_decoder=False, **options):
    """An uninitialised ELECTRA of ``config`` (:func:`.model.build_electra`)."""
    from .model import build_electra as build
    return build(config, use_pooler=use_pooler, use_discriminator=use_discriminator, use_decoder=use_decoder,
                 **options)


FAMILY = register_family(ModelFamily(
    name='electra',
    architecture=Architecture(
        'electra', ElectraConfig, build_electra, SHAPE_FIELDS, ('use_pooler', 'use_discriminator', 'use_decoder'),
        'ELECTRA (KoELECTRA): embeddings of their own width projected to the encoder\'s, post-LayerNorm encoder; the '
        'classification pre-head (dense + GELU on [CLS]) as the pooler; replaced-token discriminator and generator '
        'masked-LM decoder as optional heads', outputs=OUTPUTS),
    transformers=transformers.MAPPING,
    models=catalogue.MODELS,
))
