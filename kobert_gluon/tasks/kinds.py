"""Task kinds: what a task predicts and how it learns and is measured -> one registry entry each.

A :class:`TaskKind` holds everything fine-tuning, evaluation and prediction need to know about a kind of task:
the head it puts on the backbone, its loss, how raw outputs become predictions, its metrics (the first is the
default for picking the best epoch), the dtype of its labels, and the columns ``predict`` writes. A
:class:`~.datasets.TaskSpec` names its kind; the code that trains and predicts looks it up here instead of
branching on it.

Adding a kind (token classification, span extraction) is one :func:`register_task_kind` call with its head (in
:mod:`kobert_gluon.heads`), loss and metrics, plus how its examples are read.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..core import environment  # noqa: F401  (first: numpy check, mxnet without onnx, the gluonnlp fix)
import mxnet as mx
import numpy as np

from ..core.errors import InputError
from ..heads.sequence import SequenceClassifier, SequenceRegressor
from .metrics import classification_metrics, regression_metrics

__all__ = ['TaskKind', 'register_task_kind', 'get_task_kind', 'task_kinds', 'metric_choices']


@dataclass(frozen=True)
class TaskKind:
    """``has_classes``: labels are a fixed set of values (read as class indices) rather than real numbers.

    ``build_head(backbone, label_names, dropout)`` -> a head with uninitialised output parameters;
    ``loss(output, label)`` -> mean loss of a batch (NDArrays); ``predictions(output)`` -> what ``predict``
    returns per example (probabilities, a score); ``evaluate(truth, predictions, label_names)`` -> metrics;
    ``columns(label_names)`` and ``cells(prediction, label_names)`` -> the TSV ``predict`` writes.
    """
    name: str
    has_classes: bool
    metrics: Tuple[str, ...]
    label_dtype: str
    build_head: Callable
    loss: Callable
    predictions: Callable
    evaluate: Callable
    columns: Callable
    cells: Callable
    description: str = ''

    @property
    def default_metric(self) -> str:
        return self.metrics[0]

    def empty_predictions(self, num_labels: int) -> np.ndarray:
        return np.zeros((0, num_labels) if self.has_classes else (0,), dtype=np.float32)


_KINDS: Dict[str, TaskKind] = {}


def register_task_kind(kind: TaskKind) -> TaskKind:
    if kind.name in _KINDS:
        raise ValueError('a task kind named {!r} is already registered'.format(kind.name))
    _KINDS[kind.name] = kind
    return kind


def get_task_kind(name: str) -> TaskKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise InputError('unknown task kind {!r}; kinds: {}'.format(name, ', '.join(task_kinds()))) from None


def task_kinds() -> List[str]:
    return list(_KINDS)


# ----- sentence (pair) classification ------------------------------------------------------------------------
_cross_entropy = mx.gluon.loss.SoftmaxCrossEntropyLoss()


def _classification_evaluate(truth: np.ndarray, probabilities: np.ndarray, label_names: Sequence[str]):
    metrics = classification_metrics(truth, probabilities.argmax(axis=1), list(label_names))
    picked = probabilities[np.arange(len(truth)), truth.astype(np.int64)]
    metrics['loss'] = float(-np.mean(np.log(np.maximum(picked, 1e-12))))
    return metrics


register_task_kind(TaskKind(
    name='classification', has_classes=True, metrics=('accuracy', 'macro_f1'), label_dtype='int32',
    build_head=lambda backbone, label_names, dropout: SequenceClassifier(
        backbone, len(label_names), dropout=dropout, labels=label_names),
    loss=lambda output, label: _cross_entropy(output, label).mean(),
    predictions=lambda output: mx.nd.softmax(output, axis=-1),
    evaluate=_classification_evaluate,
    columns=lambda names: ['label'] + ['p_{}'.format(name) for name in names],
    cells=lambda value, names: [names[int(value.argmax())]] + ['{:.6f}'.format(float(v)) for v in value],
    description='one label per text (or text pair); softmax cross-entropy'))

# ----- sentence (pair) regression ----------------------------------------------------------------------------
register_task_kind(TaskKind(
    name='regression', has_classes=False, metrics=('spearman', 'pearson'), label_dtype='float32',
    build_head=lambda backbone, label_names, dropout: SequenceRegressor(backbone, dropout=dropout),
    loss=lambda output, label: ((output - label) ** 2).mean(),
    predictions=lambda output: output,
    evaluate=lambda truth, scores, label_names: regression_metrics(truth, scores),
    columns=lambda names: ['score'],
    cells=lambda value, names: ['{:.6f}'.format(float(value))],
    description='one real value per text (or text pair); mean squared error'))


def metric_choices(kind: Optional[str] = None) -> Tuple[str, ...]:
    """The metrics of one kind, or of all kinds (for option choices)."""
    if kind is not None:
        return get_task_kind(kind).metrics
    return tuple(m for k in _KINDS.values() for m in k.metrics)
