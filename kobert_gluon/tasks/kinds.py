"""Task kinds: what a task predicts and how it learns and is measured -> one registry entry each.

A :class:`TaskKind` holds everything fine-tuning, evaluation and prediction need to know about a kind of task:
the head it puts on the backbone, its loss, how raw outputs become predictions, its metrics (the first is the
default for picking the best epoch), the dtype of its labels, and the columns ``predict`` writes. A
:class:`~.datasets.TaskSpec` names its kind; the code that trains and predicts looks it up here instead of
branching on it.

Adding a kind is one :func:`register_task_kind` call with its head (in :mod:`kobert_gluon.heads`), loss and
metrics, plus how its examples are read (a new ``structure`` needs its module, see :mod:`.finetuning`).
"""
import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import InputError
from ..core.mxnet_stack import mx
from ..core.registry import Registry
from ..heads.sequence import SequenceClassifier, SequenceRegressor
from ..heads.token import SpanExtractor, TokenClassifier
from .metrics import classification_metrics, regression_metrics

__all__ = ['TaskKind', 'register_task_kind', 'get_task_kind', 'task_kinds', 'metric_choices', 'task_kind_of_checkpoint',
           'task_kind_of_head', 'problem_types', 'class_label', 'number_label', 'PIPELINES', 'register_structure']


@dataclass(frozen=True)
class TaskKind:
    """``has_classes``: labels are a fixed set of values (read as class indices) rather than real numbers.

    ``build_head(backbone, label_names, dropout)`` -> a head with uninitialised output parameters;
    ``loss(output, label)`` -> mean loss of a batch (NDArrays); ``predictions(output)`` -> what ``predict``
    returns per example (probabilities, a score); ``evaluate(truth, predictions, label_names)`` -> metrics;
    ``columns(label_names)`` and ``cells(prediction, label_names)`` -> the TSV ``predict`` writes.

    ``parse_label(cell, labels, label_range)`` -> the label of one table cell (a class value, a number, a set of
    classes), raising ``ValueError`` with what is wrong; what :func:`~.datasets.read_table` calls for every row.

    ``classes_of(label)`` -> the classes a table label holds (counted for ``--min-label-count`` and collected into the
    label set; None for a kind without classes) and ``label_value(label, index)`` -> what the head learns from it
    (``index``: class -> column; None without classes), for the kinds whose examples are table rows.

    ``head_kind`` is the head it saves (:mod:`kobert_gluon.heads.registry`); ``checkpoint_kind`` the transformers
    class kind its head converts as (``classification`` for ``...ForSequenceClassification``,
    :mod:`kobert_gluon.models.transformers_names`; None: not convertible) and ``problem_type`` what transformers'
    ``config.json`` calls it there (several kinds share ``...ForSequenceClassification`` and differ by it), so
    import-hf and export-hf dispatch on this record and a new kind converts by declaring them.

    ``structure`` says what one example is and so which code reads, batches, scores and predicts it:
    ``sentences`` (a text or a pair with one label: :mod:`.datasets` tables, :mod:`.finetuning`), ``tagged`` (a text
    with character-span entities: :mod:`.tagging`) or ``squad`` (a question on a context with answer spans:
    :mod:`.extractive_qa`). The last two score whole predictions (entities, answers) in their own modules, so
    ``evaluate``, ``columns`` and ``cells`` are the sentence kinds' only. ``uses_pooler``: the head reads the
    pooled output (else every position, and the backbone is built without a pooler).
    """
    name: str
    has_classes: bool
    metrics: Tuple[str, ...]
    label_dtype: str
    build_head: Callable
    loss: Callable
    predictions: Callable
    evaluate: Callable
    columns: Optional[Callable] = None
    cells: Optional[Callable] = None
    description: str = ''
    structure: str = 'sentences'
    uses_pooler: bool = True
    parse_label: Optional[Callable] = None
    classes_of: Optional[Callable] = None
    label_value: Optional[Callable] = None
    head_kind: str = ''
    checkpoint_kind: Optional[str] = None
    problem_type: Optional[str] = None

    @property
    def default_metric(self) -> str:
        return self.metrics[0]

    def empty_predictions(self, num_labels: int) -> np.ndarray:
        return np.zeros((0, num_labels) if self.has_classes else (0,), dtype=np.float32)


_KINDS: Registry[TaskKind] = Registry('task kind')


def register_task_kind(kind: TaskKind) -> TaskKind:
    return _KINDS.register(kind.name, kind)


def get_task_kind(name: str) -> TaskKind:
    return _KINDS.get(name)


def task_kinds() -> List[str]:
    return _KINDS.names()


def task_kind_of_checkpoint(checkpoint_kind: str, problem_type: Optional[str]) -> Optional[TaskKind]:
    """The task kind whose head converts as a ``checkpoint_kind`` transformers class with ``problem_type`` (None
    where the kind has none: token classification, question answering); None if no kind does."""
    return next((kind for kind in _KINDS.values()
                 if kind.checkpoint_kind == checkpoint_kind and kind.problem_type == problem_type), None)


def task_kind_of_head(head_kind: str) -> TaskKind:
    """The first registered task kind that saves a ``head_kind`` head (a model folder with a head and no
    ``finetuning`` section: a ``classifier`` is read as single-label classification)."""
    for kind in _KINDS.values():
        if kind.head_kind == head_kind:
            return kind
    raise InputError('no task kind saves a {!r} head; the heads of task kinds are {}'.format(
        head_kind, ', '.join(sorted({kind.head_kind for kind in _KINDS.values()}))))


def problem_types(checkpoint_kind: str) -> List[str]:
    """transformers' ``problem_type`` values the kinds of ``checkpoint_kind`` read."""
    return [kind.problem_type for kind in _KINDS.values()
            if kind.checkpoint_kind == checkpoint_kind and kind.problem_type]


def class_label(cell: str, labels, label_range=None) -> str:
    """One class value of a table cell (stripped), checked against ``labels`` when they are listed."""
    value = cell.strip()
    if value == '':
        raise ValueError('the label is empty')
    if labels is not None and value not in labels:
        raise ValueError('unknown label {!r}; expected one of {}'.format(cell, ', '.join(labels)))
    return value


def number_label(cell: str, labels=None, label_range=None) -> float:
    """One real value of a table cell, finite and within ``label_range`` when one is given."""
    try:
        number = float(cell.strip())
    except ValueError:
        raise ValueError('label {!r} is not a number'.format(cell)) from None
    if not math.isfinite(number):
        raise ValueError('label {!r} is not a finite number'.format(cell))
    if label_range is not None and not label_range[0] <= number <= label_range[1]:
        raise ValueError('label {} is outside the range {}..{}'.format(number, *label_range))
    return number


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
    parse_label=class_label, classes_of=lambda label: (label,), label_value=lambda label, index: index[label],
    head_kind='classifier', checkpoint_kind='classification',
    problem_type='single_label_classification',
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
    parse_label=number_label, label_value=lambda label, index: float(label), head_kind='regressor', checkpoint_kind='classification', problem_type='regression',
    description='one real value per text (or text pair); mean squared error'))


# ----- token classification (named entities) ----------------------------------------------------------------
def _token_loss(output, label):
    """Mean cross-entropy over the positions with a label (-1: [CLS], [SEP], padding, empty pieces)."""
    mask = (label >= 0).astype('float32')
    log_p = mx.nd.log_softmax(output, axis=-1)
    nll = -mx.nd.pick(log_p, mx.nd.maximum(label, 0).astype('float32'), axis=-1)
    return (nll * mask).sum() / mx.nd.maximum(mask.sum(), 1.0)


register_task_kind(TaskKind(
    name='token_classification', has_classes=True, metrics=('entity_f1', 'entity_precision', 'entity_recall'),
    label_dtype='int32', structure='tagged', uses_pooler=False,
    head_kind='token_classifier', checkpoint_kind='token_classification',
    build_head=lambda backbone, label_names, dropout: TokenClassifier(
        backbone, len(label_names), dropout=dropout, labels=label_names),
    loss=_token_loss,
    predictions=lambda output: mx.nd.softmax(output, axis=-1),
    evaluate=None,
    description='BIO labels on the pieces of a text, scored as character-span entities (named entities)'))


# ----- extractive question answering --------------------------------------------------------------------------
def _span_loss(output, label):
    """Mean of the start and end cross-entropies over the positions (a window without the answer points at
    [CLS], position 0, as in BERT's SQuAD recipe)."""
    log_p = mx.nd.log_softmax(output, axis=1)  # (batch, length, 2): a softmax over the positions
    start = mx.nd.pick(log_p.slice_axis(axis=2, begin=0, end=1).reshape((0, -1)), label[:, 0], axis=1)
    end = mx.nd.pick(log_p.slice_axis(axis=2, begin=1, end=2).reshape((0, -1)), label[:, 1], axis=1)
    return -(start + end).mean() / 2


register_task_kind(TaskKind(
    name='extractive_qa', has_classes=False, metrics=('f1', 'exact_match'), label_dtype='float32',
    structure='squad', uses_pooler=False, head_kind='span_extractor', checkpoint_kind='question_answering',
    build_head=lambda backbone, label_names, dropout: SpanExtractor(backbone),
    loss=_span_loss,
    predictions=lambda output: output,
    evaluate=None,
    description='the answer to a question as a span of its context (SQuAD / KorQuAD)'))


# ----- task structures -------------------------------------------------------------------------------------------
# What one example is (``TaskKind.structure``) -> its pipeline: how fine-tuning reads, batches and scores it and what
# evaluate, predict and a server ask of it (see :class:`~.sentences.SentencePipeline`). Each structure's module
# registers its own; :mod:`.structures` imports them all.
PIPELINES: Registry = Registry('task structure')


def register_structure(name: str, pipeline):
    return PIPELINES.register(name, pipeline)


def metric_choices(kind: Optional[str] = None) -> Tuple[str, ...]:
    """The metrics of one kind, or of all kinds (for option choices)."""
    if kind is not None:
        return get_task_kind(kind).metrics
    return tuple(dict.fromkeys(m for k in _KINDS.values() for m in k.metrics))  # macro_f1 is two kinds' metric
