"""Head kinds: the ``kind`` a head saves in its ``task_config`` -> the class that rebuilds it.

A model folder whose ``config.json`` has a ``task`` section holds a head over its backbone; loading it looks the
section's ``kind`` up here. A new head is a HybridBlock with
``task_config()`` and ``from_task_config(backbone, task_config)``, plus one :func:`register_head` call below.
"""
from ..core.errors import InputError
from ..core.registry import Registry
from .sequence import SequenceClassifier, SequenceRegressor
from .token import SpanExtractor, TokenClassifier

__all__ = ['register_head', 'build_head', 'head_kinds']

_HEADS: Registry[type] = Registry('head kind', 'a model written by a newer release may need an upgrade')


def register_head(kind: str, head_class: type) -> None:
    _HEADS.register(kind, head_class)


def head_kinds():
    return sorted(_HEADS.names())


def build_head(backbone, task_config):
    """Rebuild a head from its ``task_config`` (the inverse of ``head.task_config()``); parameters uninitialised."""
    if not isinstance(task_config, dict):
        raise InputError('a task section must be an object with a "kind", got {!r}'.format(task_config))
    return _HEADS.get(task_config.get('kind')).from_task_config(backbone, task_config)


register_head('classifier', SequenceClassifier)
register_head('regressor', SequenceRegressor)
register_head('token_classifier', TokenClassifier)
register_head('span_extractor', SpanExtractor)
