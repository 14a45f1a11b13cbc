"""Head kinds: the ``kind`` a head saves in its ``task_config`` -> the class that rebuilds it.

A model folder whose ``config.json`` has a ``task`` section holds a head over its backbone; loading it looks the
section's ``kind`` up here. A new head is a HybridBlock with
``task_config()`` and ``from_task_config(backbone, task_config)``, plus one :func:`register_head` call below.
"""
from typing import Dict

from ..core.errors import InputError
from .sequence import SequenceClassifier, SequenceRegressor
from .token import SpanExtractor, TokenClassifier

__all__ = ['register_head', 'build_head', 'head_kinds']

_HEADS: Dict[str, type] = {}


def register_head(kind: str, head_class: type) -> None:
    if kind in _HEADS:
        raise ValueError('a head kind named {!r} is already registered'.format(kind))
    _HEADS[kind] = head_class


def head_kinds():
    return sorted(_HEADS)


def build_head(backbone, task_config):
    """Rebuild a head from its ``task_config`` (the inverse of ``head.task_config()``); parameters uninitialised."""
    kind = task_config.get('kind') if isinstance(task_config, dict) else None
    if kind not in _HEADS:
        raise InputError('unknown head kind {!r}: this kobert-gluon knows {} (a model written by a newer release '
                         'may need an upgrade)'.format(kind, ', '.join(head_kinds())))
    return _HEADS[kind].from_task_config(backbone, task_config)


register_head('classifier', SequenceClassifier)
register_head('regressor', SequenceRegressor)
register_head('token_classifier', TokenClassifier)
register_head('span_extractor', SpanExtractor)
