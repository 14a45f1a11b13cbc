"""The transformers side of the registered model families: which family and kind a checkpoint is, and which
family a Gluon model folder exports as. Each family's mapping (its classes, name tables and config both ways) lives
in its own folder (``kobert_gluon/models/<family>/transformers.py``); this module only looks them up.
"""
from typing import Any, Dict, Tuple

from ..core.errors import InputError
from ..models.family_registry import transformers_mappings
from ..models.transformers_names import CHECKPOINT_KINDS, KINDS, TransformersMapping, checkpoint_kind

__all__ = ['TransformersMapping', 'family_of_checkpoint', 'family_of_architecture', 'CHECKPOINT_KINDS', 'KINDS',
           'checkpoint_kind', 'transformers_classes']


def transformers_classes() -> Tuple[str, ...]:
    """Every transformers class name import-hf reads, family by family."""
    return tuple(cls for mapping in transformers_mappings() for cls in mapping.classes.values())


def family_of_checkpoint(hf: Dict[str, Any], path) -> Tuple[TransformersMapping, str]:
    """``(family mapping, kind)`` of a transformers config."""
    mappings = {mapping.model_type: mapping for mapping in transformers_mappings()}
    family = mappings.get(hf.get('model_type'))
    if family is None:
        raise InputError('{} describes a {!r} model; import-hf reads {} checkpoints'.format(
            path, hf.get('model_type'), ' and '.join('model_type "{}"'.format(t) for t in mappings)))
    names = hf.get('architectures') or [family.classes['base']]
    kinds = [family.kind_of_class(name) for name in names]
    kind = next((k for k in kinds if k is not None), None)
    if kind is None:
        raise InputError('{}: architecture {} is not supported; import-hf reads {}'.format(
            path, ', '.join(names), ', '.join(transformers_classes())))
    return family, kind


def family_of_architecture(name: str) -> TransformersMapping:
    for family in transformers_mappings():
        if family.architecture == name:
            return family
    raise InputError('export-hf writes {} models, not {!r}'.format(
        ' and '.join(f.architecture for f in transformers_mappings()), name))
