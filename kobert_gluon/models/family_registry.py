"""A model family as one unit: what its folder (``models/<family>/``) declares, and the one call that registers it.

A family folder holds everything about one kind of model: its config (``config.py``, plain data), its builder
(``model.py``, MXNet), how its transformers checkpoints map onto it (``transformers.py``: name tables and the
config both ways, a :class:`~.transformers_names.TransformersMapping`), its published models (``catalogue.py``:
``ModelSpec`` entries) and, where its checkpoints bring their own tokenizer, the tokenizer kinds it adds. Its
``__init__.py`` builds a :class:`ModelFamily` and calls :func:`register_family`; :mod:`.all_families` imports every
family folder, so that importing the package sees them all. The generic code (model folders, the converter, the
catalogue, fine-tuning, the CLI) reads the registries and never names a family.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

from ..core.registry import Registry
from ..hub.catalogue import ModelSpec, register_model
from ..tokenizers.kinds import TokenizerKind, register_tokenizer_kind
from .architecture_registry import Architecture, register_architecture
from .transformers_names import TransformersMapping

__all__ = ['ModelFamily', 'register_family', 'get_family', 'model_families', 'transformers_mappings']


@dataclass(frozen=True)
class ModelFamily:
    """``architecture``: its registry entry (config class, builder, shape fields, optional heads);
    ``transformers``: how its transformers checkpoints convert (None: none do); ``models``: its catalogue entries;
    ``tokenizer_kinds``: tokenizer kinds only this family's checkpoints use."""
    name: str
    architecture: Architecture
    transformers: Optional[TransformersMapping] = None
    models: Tuple[ModelSpec, ...] = ()
    tokenizer_kinds: Tuple[TokenizerKind, ...] = ()


_FAMILIES: Registry[ModelFamily] = Registry('model family')


def register_family(family: ModelFamily) -> ModelFamily:
    """Register ``family``'s architecture, tokenizer kinds and catalogue entries, and the family itself."""
    register_architecture(family.architecture)
    for kind in family.tokenizer_kinds:
        register_tokenizer_kind(kind)
    for spec in family.models:
        register_model(spec)
    return _FAMILIES.register(family.name, family)


def get_family(name: str) -> ModelFamily:
    return _FAMILIES.get(name)


def model_families() -> Tuple[ModelFamily, ...]:
    return tuple(_FAMILIES.values())


def transformers_mappings() -> Tuple[TransformersMapping, ...]:
    """The transformers mappings of the registered families, in registration order."""
    return tuple(family.transformers for family in _FAMILIES.values() if family.transformers is not None)
