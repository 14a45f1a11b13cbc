"""The ``sentences`` task structure: a text (or a text pair) per row of a table with one label, a class or a real
value (:mod:`.datasets` tables), fine-tuned with a classifier or regressor head over the pooled output.

* :class:`SequenceTask` -- the trainer's task: loss, evaluation metrics, the best model saved;
* :class:`SentencePipeline` -- what fine-tuning, ``evaluate``, ``predict`` and a server ask the structure.

A task kind whose examples are table rows says through its :class:`~.kinds.TaskKind` how a cell is read
(``parse_label``), which classes a label holds (``classes_of``) and what the model learns from it
(``label_value``), so another table structure (:mod:`.multi_label`) derives from this pipeline and changes only what
differs.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.documents import rows_digest
from ..core.errors import InputError
from ..training.distributed import SINGLE, Ranks
from ..training.held_out import check_dev_apart
from ..training.text_batches import TextBatches
from .datasets import LabeledTable, TableSpec, TaskSpec, read_table
from .head_task import HeadTask
from .kinds import register_structure
from .labels import check_label_counts, label_lines, sorted_labels
from .prediction import table_predictions

__all__ = ['SequenceTask', 'SentencePipeline', 'read_labeled_tables']


class SequenceTask(HeadTask):
    """The trainer's task for a classifier or regressor head over ``(input_ids, valid_length, types, label)``.

    Classification minimises softmax cross-entropy; regression the mean squared error.
    """

    def __init__(self, spec: TaskSpec, labels: Optional[Sequence[str]], vocab=None, tokenizer=None,
                 saved_info: Optional[Dict[str, Any]] = None, ctx=None):
        super().__init__(spec, vocab, tokenizer, saved_info, ctx)
        self.labels = list(labels) if labels is not None else None

    def predict(self, model, data: TextBatches) -> np.ndarray:
        """Class probabilities ``(n, classes)`` or scores ``(n,)``, in the order of the examples."""
        outputs = None
        for indices, batch in self.each_batch(data, 'examples'):
            output, _ = self._forward(model, batch)
            values = self.kind.predictions(output).asnumpy()
            if outputs is None:
                outputs = np.zeros((len(data),) + values.shape[1:], dtype=np.float32)
            outputs[indices] = values
        return outputs

    def evaluate(self, model, data: TextBatches) -> Dict[str, float]:
        predicted = self.predict(model, data)
        truth = np.array([example[3] for example in data.encoded])
        return self.kind.evaluate(truth, predicted, self.spec.display_labels(self.labels or []))

    def columns(self, label_names) -> List[str]:
        """The columns ``predict`` writes for one prediction (``label``, ``p_<name>``...; or ``score``)."""
        return self.kind.columns(label_names)

    def cells(self, prediction, label_names) -> List[str]:
        return self.kind.cells(prediction, label_names)


def read_labeled_tables(settings, log) -> Tuple[LabeledTable, Optional[LabeledTable], Optional[List[str]]]:
    """``(train, dev or None, class labels or None)`` of a fine-tuning run over a table structure (``settings``: its
    ``FinetuneSettings``): the training table, every class counted (``--min-label-count``), the dev table read or
    held out of train."""
    spec = settings.task
    kind = spec.task_kind
    train = read_table(settings.train, spec.table, spec.kind, labels=spec.labels, label_range=spec.label_range,
                       skip_bad_rows=settings.skip_bad_rows, max_rows=settings.max_train_rows,
                       encoding=settings.encoding)
    log(train.summary())
    labels = None
    if kind.has_classes:  # counted on the whole file as read: a stray value is the file's, not a part's
        lines = _class_lines(train, kind)
        check_label_counts(lines, train.path, settings.min_label_count, spec.labels, log)
        labels = list(spec.labels) if spec.labels is not None else _found_labels(train, lines)
    dev = None
    dev_fraction = settings.dev_fraction if settings.dev_fraction is not None else spec.dev_fraction
    if settings.dev:
        dev = read_table(settings.dev, spec.table, spec.kind, labels=labels, label_range=spec.label_range,
                         skip_bad_rows=settings.skip_bad_rows, max_rows=settings.max_dev_rows,
                         encoding=settings.encoding)
        log(dev.summary())
        check_dev_apart(settings.train, settings.dev, train.texts, dev.texts, _SPLIT_NAMES)
    elif dev_fraction:
        train, dev = train.split_off(dev_fraction)
        if settings.max_dev_rows is not None:
            dev = dev.head(settings.max_dev_rows)
        log(train.summary())
        log(dev.summary())
    if len(train) == 0:
        raise InputError('{} has no usable examples'.format(settings.train))
    return train, dev, labels


def _class_lines(table: LabeledTable, kind) -> Dict[str, List[int]]:
    """``{class: file lines it is on}`` of a table of a kind with classes."""
    return label_lines((label, line) for value, line in zip(table.labels, table.line_numbers)
                       for label in kind.classes_of(value))


def _found_labels(table: LabeledTable, lines: Dict[str, List[int]]) -> List[str]:
    """The sorted distinct classes of a table (numerically when all are integers); a classifier needs two."""
    if len(lines) < 2:
        raise InputError('{} has {} distinct label(s) ({}); a classifier needs at least two'
                         .format(table.path, len(lines), ', '.join(sorted(lines))))
    return sorted_labels(lines)


# the settings that name a fine-tuning run's training and dev data (respelled --train / --dev by the command line)
_SPLIT_NAMES = {'train': 'train', 'dev': 'dev'}


def _label_values(table: LabeledTable, spec: TaskSpec, labels):
    """What the head learns from each row's label (a class index, a number, a multi-hot vector: the kind says)."""
    index = {label: i for i, label in enumerate(labels or [])}
    return [spec.task_kind.label_value(value, index) for value in table.labels]


def _table_report(table: Optional[LabeledTable]):
    if table is None:
        return None
    report = {'path': table.path, 'examples': len(table), 'empty_text_dropped': table.empty_dropped,
              'malformed_skipped': len(table.skipped), 'first_skipped': table.skipped[:5]}
    counts = table.label_counts()
    if counts is not None:
        report['label_counts'] = counts
    return report


def _data_digest(*tables: Optional[LabeledTable]) -> str:
    """SHA-256 of the examples as read (texts and labels, in order): what a resumed run must train on again."""
    return rows_digest(*[None if table is None else [list(example) for example in table] for table in tables])


class SentencePipeline:
    """How fine-tuning reads, batches and scores the ``sentences`` structure: labeled tables (:mod:`.datasets`).

    Every structure has one such object: ``read(settings, log) -> (train, dev or None, labels)``, ``digest(train,
    dev)`` (what a resumed run must see again), ``report(data)`` (for run.json), ``batches(data, tokenizer,
    settings, labels, training, log, ranks)`` (what the trainer iterates and the task scores; training batches are
    this rank's parts of the global batches) and ``task(spec, labels, vocab,
    tokenizer, saved_info, ctx)`` (the trainer's task); :func:`pipeline_for` picks it by the task kind's structure."""

    read = staticmethod(read_labeled_tables)
    digest = staticmethod(_data_digest)
    report = staticmethod(_table_report)
    label = 'sentence classification or regression'
    data_formats = ()
    reads_tables = True
    predict_options = ('input_format',)
    routes = ('predict',)  # what a server of such a model answers (kobert_gluon.serving)

    @staticmethod
    def answer(model, prediction):
        """What a server's /predict answers for one row (text-embeddings-inference's shape): every class with its
        probability, most likely first; a regressor: its score."""
        if not model.spec.task_kind.has_classes:  # a regressor
            return {'score': float(prediction)}
        scored = [{'label': str(label), 'score': float(p)} for label, p in zip(model.label_names, prediction)]
        return sorted(scored, key=lambda item: -item['score'])

    @staticmethod
    def output_declarations(model) -> List[Dict[str, Any]]:
        """The Open Inference Protocol's outputs of a server's /v2 infer (KServe v2 metadata): a regressor's
        ``score``; a classifier's ``label`` and ``probabilities`` (columns in the order of its labels)."""
        if not model.spec.task_kind.has_classes:
            return [{'name': 'score', 'datatype': 'FP32', 'shape': [-1]}]
        return [{'name': 'label', 'datatype': 'BYTES', 'shape': [-1]},
                {'name': 'probabilities', 'datatype': 'FP32', 'shape': [-1, len(model.label_names)]}]

    @staticmethod
    def output_tensors(model, predictions) -> List[Dict[str, Any]]:
        """The outputs of :meth:`output_declarations` for ``predictions`` (one per row)."""
        n = len(predictions)
        if not model.spec.task_kind.has_classes:
            return [{'name': 'score', 'datatype': 'FP32', 'shape': [n], 'data': [float(p) for p in predictions]}]
        labels = [str(label) for label in model.label_names]
        return [{'name': 'label', 'datatype': 'BYTES', 'shape': [n],
                 'data': [labels[int(np.argmax(p))] for p in predictions]},
                {'name': 'probabilities', 'datatype': 'FP32', 'shape': [n, len(labels)],
                 'data': [float(v) for p in predictions for v in p]}]

    @staticmethod
    def evaluate(model, path, table: Optional[TableSpec] = None, skip_bad_rows=False, max_rows=None, batch_size=64,
                 num_workers=0, encoding='utf-8', task: Optional[TaskSpec] = None, **_):
        """Metrics of ``model`` (a ``FineTunedModel``) on a labeled table (see ``FineTunedModel.evaluate``)."""
        table = table or model.spec.table
        if len(table.text_columns) != len(model.spec.table.text_columns):
            raise InputError('this model reads {} text column(s), the table spec names {}'
                             .format(len(model.spec.table.text_columns), len(table.text_columns)))
        labels = model._file_labels(task)
        data = read_table(path, table, model.spec.kind, labels=labels, label_range=model.spec.label_range,
                          skip_bad_rows=skip_bad_rows, max_rows=max_rows, encoding=encoding)
        if len(data) == 0:
            raise InputError('{} has no usable examples'.format(path))
        batches = model._batches(data.texts, _label_values(data, model.spec, labels), batch_size, num_workers)
        metrics = model._task.evaluate(model.model, batches)
        metrics.update(examples=len(data), empty_text_dropped=data.empty_dropped, malformed_skipped=len(data.skipped))
        return metrics

    predict_output = staticmethod(table_predictions)

    @staticmethod
    def batches(data, tokenizer, settings, labels, training: bool, log=None, ranks: Ranks = SINGLE) -> TextBatches:
        spec = settings.task
        return TextBatches.from_texts(
            data.texts, _label_values(data, spec, labels), tokenizer, settings.max_seq_length, spec.table.pair,
            settings.batch_size if training else settings.eval_batch_size, shuffle=training,
            seed=settings.training.seed, label_dtype=spec.task_kind.label_dtype, num_workers=settings.num_workers,
            bucket_window=settings.bucket_window, num_shards=ranks.size, shard=ranks.rank)

    @staticmethod
    def task(spec, labels, vocab, tokenizer, saved_info, ctx):
        return SequenceTask(spec, labels, vocab, tokenizer, saved_info, ctx=ctx)


register_structure('sentences', SentencePipeline())
