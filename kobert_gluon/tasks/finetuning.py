"""Fine-tuning a classification or regression head on a labeled text table, and using the result.

This module supplies what is specific to sequence tasks and leaves the loop to :class:`~.trainer.Trainer`:

* :class:`SequenceTask` -- the trainer's task: loss, evaluation metrics and how the best model is saved;
* :func:`finetune` -- reads the data, builds the model, runs the trainer in a run folder;
* :class:`FineTunedModel` -- a saved fine-tuned model: ``predict`` texts, ``evaluate`` a file.

A run folder (``out``)::

    run.json         settings, label map, data summary (what was read, skipped, dropped)
    checkpoint/      the latest resumable state (see trainer.py)
    metrics.json     per-epoch train loss and dev metrics, per-step loss / learning rate / gradient norm
    training.png     training loss and dev metric over the steps
    best/            the model of the best dev epoch (the last epoch without dev data), a model folder:
                     ``get_model('out/best')`` or ``FineTunedModel.load('out')`` loads it
    kobert-gluon-folder.json, .kobert-gluon.lock   the package's marker and the lock held while a run writes

The best model's ``config.json`` holds the label names (``task.labels``) and a ``finetuning`` section with the
task definition and the label values as written in the data, so evaluating and predicting need no settings.
"""
import logging
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from ..core.mxnet_stack import mx
from ..models import folder as model_folder
from ..models.inference import fuse
from ..models.resolution import ResolvedModel, resolve_model
from ..models.zoo import check_length_fits
from ..training import run_folder
from ..core import checks
from ..core.devices import parse_devices
from ..core.documents import write_json
from ..core.errors import InputError
from .datasets import TaskSpec, TableSpec
from .sentences import SequenceTask
from .structures import PIPELINES
from ..training.run_folder import RUN_FILE, RunFolder, RunResult, read_run_document
from ..training.text_batches import TextBatches
from ..training.distributed import SINGLE, Ranks, check_global_batch
from ..training.placement import Placement, place_training
from ..training.trainer import RESULT_NEUTRAL_SETTINGS, Trainer
from .settings import FinetuneSettings

__all__ = ['FinetuneSettings', 'SequenceTask', 'finetune', 'FinetuneResult', 'FineTunedModel', 'build_task_model',
           'RUN_FILE']

# Settings that may change between an interrupted run and its resumption without changing the result.
_RESUMABLE_CHANGES = ('num_workers',) + RESULT_NEUTRAL_SETTINGS


def build_task_model(spec: TaskSpec, labels: Sequence[str], model='kobert-base', from_scratch=False,
                     model_overrides=None, dropout=None, seed=0, ctx=None, classifier_dropout=None):
    """A head for ``spec`` over the encoder of ``model`` (a name, a folder, or a
    :class:`~kobert_gluon.models.resolution.ResolvedModel`); returns ``(head, vocab)``. ``dropout`` applies to the
    encoder and the head, ``classifier_dropout`` (if set) to the head alone.

    A fine-tuned model folder may be the starting point: its encoder is reused and a new head is made.
    """
    ctx = ctx or mx.cpu()
    overrides = dict(model_overrides or {})
    if dropout is not None:
        overrides['dropout'] = dropout
    mx.random.seed(seed)  # weights of a from-scratch encoder and of the new head follow the run's seed
    # The sentence heads read the pooled output. A DistilBERT saved without its pre-classifier (the pooler of the
    # Gluon DistilBERT; transformers keeps it in the classification head) gets a new one, as transformers does.
    # An ELECTRA's pooler (transformers' classification pre-head) is new in every fine-tuning, as in transformers.
    from ..models.building import backbone_heads
    source = model if isinstance(model, ResolvedModel) else resolve_model(model)
    base, vocab = source.build(pretrained=not from_scratch, ctx=ctx, new_heads=('use_pooler',),
                               **backbone_heads(pooler=spec.task_kind.uses_pooler), **overrides)
    bert = getattr(base, 'bert', base)
    head_dropout = classifier_dropout if classifier_dropout is not None else 0.1 if dropout is None else dropout
    head = spec.task_kind.build_head(bert, spec.display_labels(labels), head_dropout)
    head.output.initialize(mx.init.Normal(0.02), ctx=ctx)
    return head, vocab


FinetuneResult = RunResult  # kept as a name of its own: it is what the public API returns




def pipeline_for(spec: TaskSpec):
    """The pipeline of the task's structure (see :class:`SentencePipeline`), checked against what the task reads: a
    table of columns or the structure's own files."""
    pipeline = PIPELINES.get(spec.task_kind.structure)
    if pipeline.reads_tables and spec.table is None:
        raise InputError('a {} task reads a table: say which columns (text_columns, label_column)'.format(spec.kind))
    if not pipeline.reads_tables and spec.table is not None:
        raise InputError('a {} task reads {} files, not a table of columns'.format(spec.kind, pipeline.label))
    return pipeline


def finetune(settings: FinetuneSettings, out, resume: bool = False, overwrite: bool = False,
             should_stop: Optional[Callable[[Dict[str, Any]], bool]] = None, log: Optional[Callable[[str], None]] = None,
             ctx=None, ranks: Ranks = SINGLE, device=None, dtype: str = 'float32') -> FinetuneResult:
    """Fine-tune as ``settings`` say, in the run folder ``out``; see the module docstring for its contents.

    An existing non-empty ``out`` is refused unless ``overwrite`` (it must be a run folder holding only what
    kobert-gluon wrote; it is replaced only once every input has been read and checked) or ``resume``
    (continue from its checkpoint; the settings and the data as read must match the run's). ``ranks``: this
    process's place in a data-parallel job (``settings.batch_size`` is then the global batch; only rank 0 owns the
    run folder, see :mod:`kobert_gluon.training.distributed`). ``device``: where to train (``'cpu'``, ``'gpu'``,
    ``'gpu:0,1'``: each batch split across those GPUs, or contexts; ``ctx`` is its older name), ``dtype``:
    ``'float16'`` trains in mixed precision on GPUs (see :mod:`kobert_gluon.training.placement`).
    """
    out = Path(out)
    log = log or logging.getLogger(__name__).info  # library code logs; the command line prints
    source = resolve_model(settings.model)  # once: its config, heads and tokenizer serve every step below
    positions = settings.model_overrides.get('max_length', source.config.max_length)
    check_length_fits(settings.max_seq_length, positions, source)
    check_global_batch(settings.batch_size, ranks)
    placement = place_training(device if device is not None else ctx, dtype, ranks)  # before the model is built
    if not ranks.is_writer:  # one writer: rank 0 owns and locks the run folder; the other ranks only read
        return _finetune_in(None, out, resume, settings, source, should_stop, log, placement, ranks)
    with RunFolder(out, 'fine-tuning', resume, overwrite, settings.input_paths()) as run:
        return _finetune_in(run, out, run.resume, settings, source, should_stop, log, placement, ranks)


def _finetune_in(run: Optional[RunFolder], out: Path, resume: bool, settings: FinetuneSettings, source, should_stop,
                 log, placement: Placement, ranks: Ranks) -> FinetuneResult:
    ctx = placement.first
    if resume:
        saved_run = read_run_document(out)
        saved = FinetuneSettings.from_dict(saved_run['settings'])  # read back as a run of today writes it
        run_folder.check_resumed_settings(out, saved.to_dict(), settings.to_dict(), _RESUMABLE_CHANGES)
    spec = settings.task
    pipeline = pipeline_for(spec)
    train_data, dev_data, labels = pipeline.read(settings, log)
    data_digest = pipeline.digest(train_data, dev_data)
    if resume and saved_run.get('data', {}).get('sha256') not in (None, data_digest):
        raise InputError('the training or dev data differ from what {} was trained on so far (a file such as {} '
                         'was changed since the run started); resume with the same data, or start a new run '
                         '(--overwrite)'.format(out, settings.train))
    model, vocab = build_task_model(spec, labels or [], source, settings.from_scratch,
                                    settings.model_overrides, settings.dropout, seed=settings.training.seed, ctx=ctx,
                                    classifier_dropout=settings.classifier_dropout)
    tokenizer = source.tokenizer
    train = pipeline.batches(train_data, tokenizer, settings, labels, training=True, log=log, ranks=ranks)
    dev = None
    if dev_data is not None and len(dev_data):  # every rank evaluates the whole dev set
        dev = pipeline.batches(dev_data, tokenizer, settings, labels, training=False, log=log)
    saved_info = {'task': spec.to_dict(), 'labels': labels, 'max_seq_length': settings.max_seq_length,
                  'trained_on': Path(settings.train).name}  # a file name: the model folder travels, paths do not
    if run is not None:
        run.start()
    if not resume and ranks.is_writer:
        write_json(out / RUN_FILE, {
            'settings': settings.to_dict(), 'labels': labels,
            'label_names': spec.display_labels(labels) if labels else None,
            'data': {'train': pipeline.report(train_data), 'dev': pipeline.report(dev_data),
                     'train_padding_fraction': round(train.padding_fraction(0), 4), 'sha256': data_digest},
        })
    model.hybridize()
    task = pipeline.task(spec, labels, vocab, tokenizer, saved_info, ctx)
    trainer = Trainer(model, task, settings.training, out_dir=out, placement=placement,
                      log=log, ranks=ranks, on_checkpoint=run.checkpoint_written if run is not None else None)
    result = trainer.fit(train, dev, resume=resume, should_stop=should_stop)
    return FinetuneResult(out, result.history, result.interrupted)


class FineTunedModel:
    """A fine-tuned model folder (or a run folder, meaning its ``best/``) ready to predict and evaluate."""

    def __init__(self, model, vocab, folder: Path, info: Dict[str, Any], ctx=None, tokenizer=None):
        self.model = model
        self.folder = folder
        self.info = info
        self.spec = TaskSpec.from_dict(info['task'])
        self.labels = info['labels']
        self.label_names = model.labels if hasattr(model, 'labels') else None
        self.max_seq_length = info['max_seq_length']
        self.ctx = ctx or mx.cpu()
        self.tokenizer = tokenizer if tokenizer is not None else model_folder.load_folder_tokenizer(folder)
        # a table structure predicts per text through its trainer task (the finetuning section: what it saved)
        self._task = (self.pipeline.task(self.spec, self.labels, None, None, info, self.ctx)
                      if self.pipeline.reads_tables else None)
        self.graph = 'plain graph'  # what computes the forward pass, in words (load: the fused graph)

    @classmethod
    def load(cls, folder, ctx=None, device=None, fused: bool = True) -> 'FineTunedModel':
        """``folder``: a fine-tuned model folder, a run folder, or a shipped model's name (``kobert-mini-nsmc``);
        ``device``: where it computes (``'cpu'``, ``'gpu'``, ``'gpu:1'`` or a context; ``ctx`` is its older name).
        ``fused=False`` leaves the graph plain (a model whose forward pass another runtime computes)."""
        ctx = parse_devices(device if device is not None else ctx)[0]
        resolved = resolve_model(folder)  # a run folder means its best/
        if resolved.folder is None or 'finetuning' not in resolved.document:
            raise InputError('{} is not a fine-tuned model (its config.json has no finetuning section)'
                             .format(resolved.name))
        model, vocab = resolved.build(ctx=ctx)
        if fused:
            graph = fuse(model, ctx)  # the oneDNN-fused graph where the build has it: the same outputs
        else:
            model.hybridize()
            graph = 'plain graph'
        fine_tuned = cls(model, vocab, resolved.folder, resolved.document['finetuning'], ctx=ctx,
                         tokenizer=resolved.tokenizer)
        fine_tuned.graph = graph
        return fine_tuned

    def run_forward_with(self, forward) -> None:
        """Compute forward passes with ``forward(input_ids, token_type_ids, valid_length) -> NDArray`` (what the
        Gluon head returns) instead of the Gluon model: how a deployment runtime plugs in; everything around it
        (tokenizer, batches, the task kind's predictions and metrics) stays the same. A ``forward`` that builds
        something per input shape may offer ``prepare(max_batch_size) -> int`` and ``shapes_to_prepare(max_batch_size)
        -> int`` (see :meth:`prepare`)."""
        self.model = forward

    def prepare(self, max_batch_size: int) -> int:
        """Build ahead what the forward pass would otherwise build on the first batch of each shape (OpenVINO
        compiles one graph per (batch, length) bucket), for batches of up to ``max_batch_size`` rows: a server's
        warm-up. Returns how many shapes were built (0: nothing to build, as for MXNet and onnxruntime)."""
        prepare = getattr(self.model, 'prepare', None)
        return prepare(max_batch_size) if prepare is not None else 0

    def shapes_to_prepare(self, max_batch_size: int) -> int:
        """How many shapes :meth:`prepare` would build now (0 once built, or where nothing is built per shape)."""
        pending = getattr(self.model, 'shapes_to_prepare', None)
        return pending(max_batch_size) if pending is not None else 0

    @property
    def structure(self) -> str:
        """What one example is: ``sentences``, ``tagged`` (token classification) or ``squad`` (extractive QA)."""
        return self.spec.task_kind.structure

    @property
    def pipeline(self):
        """The task structure's pipeline: how this model evaluates and predicts (:data:`PIPELINES`)."""
        return PIPELINES.get(self.structure)

    @property
    def pair(self) -> bool:
        return self.spec.table is not None and self.spec.table.pair

    def _require(self, structure: str, what: str):
        if self.structure != structure:
            raise InputError('{} is a {} model; {} needs a {} model'.format(
                self.folder, self.spec.kind, what, PIPELINES.get(structure).label))

    def predict_entities(self, texts: Sequence[str], batch_size: int = 64):
        """The entities of each text (a token classifier): lists of :class:`~.tagging.Entity` (character spans of
        the text), and how many texts were longer than the model's sequence length (their tail is not tagged)."""
        self._require('tagged', 'predict_entities')
        from .tagging import predict_entities
        texts = checks.texts('texts', texts, call='predict_entities')  # the one rule for lists of texts
        checks.whole('batch_size', batch_size, 1)
        return predict_entities(self.model, self.tokenizer, texts, self.label_names, self.max_seq_length,
                                batch_size, self.spec, ctx=self.ctx)

    def predict_answers(self, data, batch_size: int = 64, strip_particles=None) -> Dict[str, str]:
        """``{question id: answer}`` for the questions of ``data`` (a question-answering model; ``data``: a SQuAD
        JSON path or :class:`~.extractive_qa.QAData`); ``strip_particles``: None, ``'mecab'``, ``'suffix'`` or
        ``'auto'`` (see :class:`~.extractive_qa.ParticleStripper`)."""
        spans = self._answer_spans(data, batch_size, strip_particles, 'predict_answers')
        return {qid: span.text for qid, span in spans.items()}

    def predict_answer_spans(self, data, batch_size: int = 64, strip_particles=None):
        """As :meth:`predict_answers`, each answer with its character offsets in its context, where the model found
        it (:class:`~.extractive_qa.AnswerSpan`: ``text``, ``start``, ``end``; the empty answer: None, None)."""
        return self._answer_spans(data, batch_size, strip_particles, 'predict_answer_spans')

    def _answer_spans(self, data, batch_size, strip_particles, call):
        self._require('squad', call)
        from .extractive_qa import predict_answer_spans, read_squad
        if not hasattr(data, 'examples'):
            data = read_squad(data, need_answers=False)
        return predict_answer_spans(self.model, self.tokenizer, data, self.spec, self.max_seq_length, batch_size,
                                    strip_particles, ctx=self.ctx)

    @property
    def is_regression(self) -> bool:
        return self.spec.is_regression

    def output_columns(self) -> List[str]:
        """The columns :meth:`output_cells` fills for one prediction (``label``, ``p_<name>``...; or ``score``)."""
        return self._task.columns(self.label_names)

    def output_cells(self, prediction) -> List[str]:
        return self._task.cells(prediction, self.label_names)

    def _batches(self, texts, labels, batch_size, num_workers=0) -> TextBatches:
        label_dtype = self.spec.task_kind.label_dtype
        return TextBatches.from_texts(texts, labels, self.tokenizer, self.max_seq_length, self.pair, batch_size,
                                      shuffle=False, label_dtype=label_dtype, num_workers=num_workers)

    def predict(self, texts: Sequence[Sequence[str]], batch_size: int = 64) -> np.ndarray:
        """Probabilities ``(n, classes)`` (columns in ``label_names`` order) or scores ``(n,)``.

        ``texts[i]`` is ``(text,)`` or, for a pair task, ``(text_a, text_b)``; plain strings are accepted for
        single-sentence tasks.
        """
        if not self.pipeline.reads_tables:
            raise InputError('{} is a {} model; predict needs a model of texts from a table (sentence '
                             'classification or regression, multi-label classification)'.format(
                                 self.folder, self.spec.kind))
        texts = checks.texts('texts', texts, width=2 if self.pair else 1, call='predict')
        checks.whole('batch_size', batch_size, 1)
        if not texts:
            return self.spec.task_kind.empty_predictions(len(self.labels or []))
        return self._task.predict(self.model, self._batches(texts, None, batch_size))

    def evaluate(self, path, table: Optional[TableSpec] = None, skip_bad_rows=False, max_rows=None,
                 batch_size=64, num_workers=0, encoding: str = 'utf-8',
                 data_format: Optional[str] = None, task: Optional[TaskSpec] = None) -> Dict[str, Any]:
        """Metrics of the model on a labeled file (read like the training data unless ``table`` says otherwise).

        ``task``: the ready-made task whose file this is; when the model knows its classes by the task's display
        names (a model round-tripped through transformers calls NSMC's ``0``/``1`` ``negative``/``positive``), the
        file's own label values are read as those classes.

        Token classifiers and question answering read their own formats (``table`` does not apply; ``PATH#test``
        reads a hash part, see :mod:`.tagging`): entity scores, or KorQuAD's F1 and exact match with and without
        particle stripping. ``data_format`` reads tagged text in another format than the training data's (``klue``,
        ``conll``)."""
        pipeline = self.pipeline
        if data_format is not None and data_format not in pipeline.data_formats:
            raise InputError('a {} model reads {}, not {}'.format(
                pipeline.label, ' or '.join(pipeline.data_formats) or 'tables (columns)', data_format))
        return pipeline.evaluate(self, path, table=table, skip_bad_rows=skip_bad_rows, max_rows=max_rows,
                                 batch_size=batch_size, num_workers=num_workers, encoding=encoding,
                                 data_format=data_format, task=task)

    def _file_labels(self, task: Optional[TaskSpec]):
        """The label values a file of ``task`` writes for this model's classes, in class order."""
        if task is None or not task.labels or not self.labels or list(task.labels) == list(self.labels):
            return self.labels
        if task.label_names and [str(n) for n in task.label_names] == [str(n) for n in self.labels]:
            return list(task.labels)
        return self.labels
