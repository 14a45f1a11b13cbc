"""The ``multi_label`` task structure: a text (or a text pair) per row of a table with any number of labels from a
fixed set, each a yes/no of its own (a sigmoid per label, binary cross-entropy), as transformers'
``...ForSequenceClassification`` with ``problem_type: multi_label_classification``.

The table is read as the sentence tables are (:mod:`.datasets`); the label column holds the row's labels separated
by ``|`` (``gender|hate``), and an empty cell is a row with no label (a clean comment). ``--min-label-count`` counts
every label wherever it occurs. The head is the sentence classifier (pooled output, dropout, dense: one score per
label), so a model folder, ONNX export and the transformers class are those of single-label classification; the
task kind (this module) says how the scores are read.

A label is predicted when its probability reaches its own threshold. While fine-tuning, every evaluation on dev
picks each label's threshold (the one of 0.05, 0.10, ... 0.95 with the best F1 of that label on dev; 0.5 where dev
has none of it), and the best model saves them in its ``finetuning`` section (``thresholds``): ``evaluate`` and
``predict`` of a saved model use them as saved, never choosing again on the data they are given. A model imported
from transformers has 0.5 for every label, as transformers' own pipelines read sigmoid scores.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..core.mxnet_stack import mx
from ..heads.sequence import SequenceClassifier
from ..training.text_batches import TextBatches
from .kinds import TaskKind, register_structure, register_task_kind
from .sentences import SentencePipeline, SequenceTask

__all__ = ['LABEL_SEPARATOR', 'MultiLabelTask', 'MultiLabelPipeline', 'choose_thresholds', 'parse_label_set',
           'multi_label_metrics']

LABEL_SEPARATOR = '|'
DEFAULT_THRESHOLD = 0.5
# the thresholds tried per label on dev: a coarse grid, so a handful of dev rows cannot pick 0.4817
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))


def parse_label_set(cell: str, labels=None, label_range=None) -> Tuple[str, ...]:
    """The labels of one table cell (``a|b``; empty: none), each once, checked against ``labels`` when listed."""
    if not cell.strip():
        return ()
    found = tuple(part.strip() for part in cell.split(LABEL_SEPARATOR))
    if any(not label for label in found):
        raise ValueError('an empty label in {!r} (labels are separated by "{}")'.format(cell, LABEL_SEPARATOR))
    repeated = sorted({label for label in found if found.count(label) > 1})
    if repeated:
        raise ValueError('label {!r} is given twice in {!r}'.format(repeated[0], cell))
    unknown = [label for label in found if labels is not None and label not in labels]
    if unknown:
        raise ValueError('unknown label {!r}; expected some of {}'.format(unknown[0], ', '.join(labels)))
    return found


def _multi_hot(label_set: Sequence[str], index: Dict[str, int]) -> np.ndarray:
    vector = np.zeros(len(index), dtype=np.float32)
    vector[[index[label] for label in label_set]] = 1.0
    return vector


def choose_thresholds(truth: np.ndarray, probabilities: np.ndarray) -> List[float]:
    """Per label, the threshold of :data:`THRESHOLD_GRID` with the best F1 of that label (the lowest among equals;
    0.5 for a label that ``truth`` never has, where every threshold scores 0)."""
    chosen = []
    for column in range(truth.shape[1]):
        positive = truth[:, column] > 0.5
        if not positive.any():
            chosen.append(DEFAULT_THRESHOLD)
            continue
        scores = []
        for threshold in THRESHOLD_GRID:
            predicted = probabilities[:, column] >= threshold
            hits = float(np.sum(predicted & positive))
            scores.append(2 * hits / max(float(predicted.sum() + positive.sum()), 1.0))
        chosen.append(THRESHOLD_GRID[int(np.argmax(scores))])
    return chosen


def multi_label_metrics(truth: np.ndarray, predicted: np.ndarray, label_names: Sequence[str]) -> Dict[str, float]:
    """Micro F1 (every label's decisions pooled), macro F1 (the mean of the labels' F1; a label neither in ``truth``
    nor predicted scores 0, as scikit-learn's ``f1_score`` does by default), each label's ``f1_<label>``, and
    ``exact_match`` (rows whose whole label set is right). ``truth`` and ``predicted``: (rows, labels) of 0/1."""
    truth, predicted = truth > 0.5, np.asarray(predicted, dtype=bool)
    hits = np.sum(truth & predicted, axis=0).astype(np.float64)
    sizes = (np.sum(truth, axis=0) + np.sum(predicted, axis=0)).astype(np.float64)
    per_label = np.where(sizes > 0, 2 * hits / np.maximum(sizes, 1.0), 0.0)
    metrics = {'micro_f1': float(2 * hits.sum() / max(sizes.sum(), 1.0)), 'macro_f1': float(per_label.mean()),
               'exact_match': float(np.mean(np.all(truth == predicted, axis=1)))}
    metrics.update({'f1_{}'.format(name): float(f1) for name, f1 in zip(label_names, per_label)})
    return metrics


_binary_cross_entropy = mx.gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=False)


def _chosen(probabilities, label_names, thresholds) -> List[str]:
    return [str(name) for name, p, t in zip(label_names, probabilities, thresholds) if p >= t]


class MultiLabelTask(SequenceTask):
    """The trainer's task (and a saved model's predictor): sigmoid probabilities per label, read through per-label
    thresholds. ``saved_info['thresholds']`` (a saved model's) are used as they are; without them, every
    :meth:`evaluate` chooses them on its data and :meth:`save_best` saves the ones of the evaluation that made the
    model the best."""

    def __init__(self, spec, labels, vocab=None, tokenizer=None, saved_info=None, ctx=None):
        super().__init__(spec, labels, vocab, tokenizer, saved_info, ctx)
        saved = (saved_info or {}).get('thresholds')
        self.choosing = saved is None
        self.thresholds = list(saved) if saved is not None else [DEFAULT_THRESHOLD] * len(self.labels or [])

    def evaluate(self, model, data: TextBatches) -> Dict[str, float]:
        probabilities = self.predict(model, data)
        truth = np.stack([example[3] for example in data.encoded]).astype(np.float32)
        if self.choosing:
            self.thresholds = choose_thresholds(truth, probabilities)
        names = self.spec.display_labels(self.labels or [])
        metrics = multi_label_metrics(truth, probabilities >= np.array(self.thresholds), names)
        clipped = np.clip(probabilities, 1e-12, 1 - 1e-12)
        metrics['loss'] = float(-np.mean(truth * np.log(clipped) + (1 - truth) * np.log(1 - clipped)))
        return metrics

    def save_best(self, model, folder):
        self.saved_info = dict(self.saved_info, thresholds=[float(t) for t in self.thresholds])
        super().save_best(model, folder)

    def columns(self, label_names) -> List[str]:
        """``label``: the chosen labels joined by ``|`` (the training files' own format), then ``p_<label>``."""
        return ['label'] + ['p_{}'.format(name) for name in label_names]

    def cells(self, prediction, label_names) -> List[str]:
        return ([LABEL_SEPARATOR.join(_chosen(prediction, label_names, self.thresholds))]
                + ['{:.6f}'.format(float(p)) for p in prediction])


class MultiLabelPipeline(SentencePipeline):
    """Tables as the sentence structure reads them; its own trainer task, report and server answer."""
    label = 'multi-label classification'

    @staticmethod
    def report(table):
        report = SentencePipeline.report(table)
        if report is not None:
            counts = {}
            for label_set in table.labels:
                for label in label_set:
                    counts[label] = counts.get(label, 0) + 1
            report['label_counts'] = dict(sorted(counts.items()))
            report['rows_without_label'] = sum(1 for label_set in table.labels if not label_set)
        return report

    @staticmethod
    def answer(model, prediction):
        """/predict's answer for one row: every label's probability (most likely first) and the chosen labels."""
        names = [str(name) for name in model.label_names]
        scored = sorted(({'label': name, 'score': float(p)} for name, p in zip(names, prediction)),
                        key=lambda item: -item['score'])
        return {'labels': _chosen(prediction, names, model._task.thresholds), 'scores': scored}

    @staticmethod
    def output_declarations(model):
        """/v2 infer's outputs: ``labels`` (the chosen labels of a row, "|"-joined as in the training files) and
        ``probabilities`` (one column per label, in the order of its labels)."""
        return [{'name': 'labels', 'datatype': 'BYTES', 'shape': [-1]},
                {'name': 'probabilities', 'datatype': 'FP32', 'shape': [-1, len(model.label_names)]}]

    @staticmethod
    def output_tensors(model, predictions):
        names = [str(name) for name in model.label_names]
        n = len(predictions)
        return [{'name': 'labels', 'datatype': 'BYTES', 'shape': [n],
                 'data': [LABEL_SEPARATOR.join(_chosen(p, names, model._task.thresholds)) for p in predictions]},
                {'name': 'probabilities', 'datatype': 'FP32', 'shape': [n, len(names)],
                 'data': [float(v) for p in predictions for v in p]}]

    @staticmethod
    def task(spec, labels, vocab, tokenizer, saved_info, ctx):
        return MultiLabelTask(spec, labels, vocab, tokenizer, saved_info, ctx=ctx)


register_task_kind(TaskKind(
    name='multi_label_classification', has_classes=True, metrics=('micro_f1', 'macro_f1'), label_dtype='float32',
    build_head=lambda backbone, label_names, dropout: SequenceClassifier(
        backbone, len(label_names), dropout=dropout, labels=label_names),
    loss=lambda output, label: _binary_cross_entropy(output, label).mean(),
    predictions=lambda output: mx.nd.sigmoid(output),
    evaluate=None, structure='multi_label',
    parse_label=parse_label_set, classes_of=lambda label_set: label_set, label_value=_multi_hot,
    head_kind='classifier', checkpoint_kind='classification', problem_type='multi_label_classification',
    description='any number of labels per text (or text pair), "|"-separated in the label column; a sigmoid and '
                'binary cross-entropy per label, thresholds chosen on dev'))

register_structure('multi_label', MultiLabelPipeline())
