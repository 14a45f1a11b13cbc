"""BERT pretraining (masked LM + next-sentence prediction) on prepared shards, with the one Trainer.

This module supplies what is specific to pretraining and leaves the loop to :class:`~.trainer.Trainer`:

* :class:`PretrainingTask` -- the trainer's task: MLM cross-entropy over the masked positions (weighted by
  ``masked_lm_weights``, so padding predictions count for nothing) plus NSP cross-entropy; MLM/NSP loss and
  accuracy per step and on dev;
* :func:`build_pretraining_model` -- a ``BERTModel`` with pooler, MLM decoder and NSP classifier: a registered
  model's pretrained weights, a saved model folder (continue pretraining), or random weights of any size;
* :func:`pretrain` -- checks data and vocabulary agree, holds out dev chunks, runs the trainer in a run folder.

A run folder (``out``)::

    run.json         settings and the data split (training / dev shards and instance counts)
    checkpoint/      the latest resumable state (see trainer.py)
    metrics.json     per-step loss, MLM/NSP loss and accuracy, learning rate, gradient norm; dev evaluations
    training.png     those curves
    best/            the model with the lowest dev loss (the latest without dev data): a model folder with all
                     heads (``get_model('out/best')``), ready for ``kobert-gluon finetune --model out/best``
"""
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from ..core.mxnet_stack import mx
from ..models import folder as model_folder
from ..core.documents import write_json
from ..core.owned_folders import read_marker, sha256_of
from ..core.errors import InputError
from ..core.registry import Registry
from .batches import PretrainingBatches, PretrainingEvalBatches, ShardFile, split_dev_chunks, shard_files
from .data import MANIFEST_FILE, PretrainingData
from .measures import dev_ratios
from ..training.distributed import SINGLE, Ranks, check_global_batch
from ..training.held_out import check_dev_apart
from ..training.run_folder import RUN_FILE, RunFolder, RunResult, check_resumed_settings, read_run_settings
from ..training.placement import Placement, place_training
from ..training.trainer import RESULT_NEUTRAL_SETTINGS, Trainer
from .settings import PretrainSettings, pretraining_training_config

__all__ = ['PretrainSettings', 'PretrainingTask', 'PretrainResult', 'build_pretraining_model', 'pretrain',
           'pretraining_training_config']

# The pretraining objectives by name (--objective); registered below, once their builders and tasks exist:
# bert: masked LM + next sentence (BERT); electra: generator masked LM + replaced-token detection (ELECTRA)
OBJECTIVES: Registry['Objective'] = Registry('pretraining objective')

# Settings that may change between an interrupted run and its resumption without changing the result.
_RESUMABLE_CHANGES = RESULT_NEUTRAL_SETTINGS


def _from_scratch_parts(model, vocab_folder, overrides):
    """``(architecture, config, tokenizer)`` of a from-scratch model: the registered ``model``'s architecture at the
    size ``overrides`` say, with the vocabulary of ``vocab_folder`` (a ``build_vocab`` folder) or the model's own."""
    from ..models.resolution import resolve_model
    from ..models.zoo import list_models, load_tokenizer
    if model not in list_models():
        raise InputError('--from-scratch builds a registered architecture ({}); {} is not one (a model folder? '
                         'leave out --from-scratch to continue pretraining it)'.format(', '.join(list_models()), model))
    source = resolve_model(model)
    tokenizer = source.tokenizer if vocab_folder is None else load_tokenizer(vocab_folder)
    # the architecture's builder directly rather than build(): a new vocabulary changes vocab_size, which build()
    # checks against the registered model's own vocabulary.
    config = source.config.replace(vocab_size=len(tokenizer.vocab), **overrides)
    return source.architecture, config, tokenizer


def build_pretraining_model(model='kobert-base', from_scratch=False, vocab_folder=None, model_overrides=None,
                            dropout=None, seed=0, ctx=None):
    """A ``BERTModel`` with pooler, MLM decoder and NSP classifier; returns ``(model, vocab, tokenizer)``.

    From scratch, the registered ``model`` gives the architecture, ``model_overrides`` change its size and
    ``vocab_folder`` (a ``build_vocab`` folder) the vocabulary; the weights follow ``seed``.
    """
    from ..models.resolution import resolve_model
    from ..models.zoo import initialize_random
    ctx = ctx or mx.cpu()
    overrides = dict(model_overrides or {})
    if dropout is not None:
        overrides['dropout'] = dropout
    heads = dict(use_pooler=True, use_decoder=True, use_classifier=True)
    if not from_scratch:
        source = resolve_model(model)
        bert, vocab = source.build(pretrained=True, ctx=ctx, **heads, **overrides)
        return bert, vocab, source.tokenizer
    architecture, config, tokenizer = _from_scratch_parts(model, vocab_folder, overrides)
    if 'use_classifier' not in architecture.optional_heads:
        other = next((objective for objective in OBJECTIVES.values() if architecture.name in objective.architectures),
                     None)
        hint = ('pass --objective {} for it'.format(other.name) if other is not None
                else 'distill trains a {} student from a BERT teacher'.format(architecture.name))
        raise InputError('the masked-LM + next-sentence objective trains a BERT, and {} is a {} model; {}'
                         .format(model, architecture.name, hint))
    bert = architecture.build(config, **heads)
    initialize_random(bert, ctx, seed=seed)
    return bert, tokenizer.vocab, tokenizer


def build_electra_model(settings: 'PretrainSettings', ctx=None):
    """The generator + discriminator pair of an ``--objective electra`` run; returns ``(model, vocab, tokenizer)``."""
    from .electra import build_electra_pretraining_model
    if not settings.from_scratch:
        raise InputError('--objective electra trains a new ELECTRA: pass --from-scratch with an electra model '
                         '(koelectra-small-v3 and the size options)')
    overrides = dict(settings.model_overrides)
    if settings.dropout is not None:
        overrides['dropout'] = settings.dropout
    _, config, tokenizer = _from_scratch_parts(settings.model, settings.vocab, overrides)
    model = build_electra_pretraining_model(config, settings.generator_size, seed=settings.training.seed,
                                            ctx=ctx or mx.cpu())
    return model, tokenizer.vocab, tokenizer


class PretrainingTask:
    """The trainer's task for a ``BERTModel`` with decoder and classifier on :mod:`.pretraining_batches` batches.

    Loss = MLM loss + NSP loss as in BERT: the MLM cross-entropy is summed over the predictions weighted by
    ``masked_lm_weights`` and divided by the sum of the weights; the NSP cross-entropy is averaged over the
    sequences. The best model is the one with the lowest dev ``loss`` (their sum).
    """
    metric = 'loss'
    higher_is_better = False

    def __init__(self, vocab=None, tokenizer=None, saved_info: Optional[Dict[str, Any]] = None,
                 param_dtype='float32', ctx=None):
        self.vocab = vocab
        self.tokenizer = tokenizer  # a tokenizer object, or (0.1) a SentencePiece model path
        self.saved_info = saved_info or {}
        self.param_dtype = param_dtype
        self.ctx = ctx or mx.cpu()
        self._cross_entropy = mx.gluon.loss.SoftmaxCrossEntropyLoss()

    def _losses(self, model, batch, ctx=None):
        """Per-prediction MLM and per-sequence NSP cross-entropies, with what is needed to score them, computed on
        ``ctx`` (None: the task's device)."""
        (input_ids, segment_ids, valid_length, positions, masked_ids, weights,
         nsp_labels) = [x.as_in_context(ctx or self.ctx) for x in batch]
        outputs = model(input_ids, segment_ids, valid_length, positions)
        nsp_logits, mlm_logits = outputs[-2], outputs[-1]
        vocab_size = mlm_logits.shape[-1]
        mlm_ce = self._cross_entropy(mlm_logits.reshape((-1, vocab_size)), masked_ids.reshape((-1,)))
        nsp_ce = self._cross_entropy(nsp_logits, nsp_labels)
        return mlm_ce, nsp_ce, mlm_logits, nsp_logits, masked_ids, weights.reshape((-1,)), nsp_labels

    @staticmethod
    def _sums(mlm_ce, nsp_ce, mlm_logits, nsp_logits, masked_ids, weights, nsp_labels):
        """``{metric: (numerator, denominator)}`` of one batch (detached: scoring is not part of the graph)."""
        mlm_ce, nsp_ce = mlm_ce.detach(), nsp_ce.detach()
        predicted = mx.nd.argmax(mlm_logits.detach(), axis=-1).reshape((-1,))
        mlm_correct = ((predicted == masked_ids.reshape((-1,)).astype('float32')) * weights).sum()
        nsp_correct = (mx.nd.argmax(nsp_logits.detach(), axis=-1) == nsp_labels.astype('float32')).sum()
        predictions, sequences = weights.sum(), float(nsp_ce.shape[0])
        return {'mlm_loss': ((mlm_ce * weights).sum(), predictions), 'mlm_accuracy': (mlm_correct, predictions),
                'nsp_loss': (nsp_ce.sum(), sequences), 'nsp_accuracy': (nsp_correct, sequences)}

    def loss(self, model, batch):
        parts = self._losses(model, batch, batch[0].context)  # where the trainer put this part of the batch
        mlm_ce, nsp_ce, weights = parts[0], parts[1], parts[5]
        # + 1e-8: a batch whose predictions all have weight 0 contributes no MLM loss instead of NaN
        mlm_loss = (mlm_ce * weights).sum() / (weights.sum() + 1e-8)
        nsp_loss = nsp_ce.mean()
        sequences = int(nsp_ce.shape[0])
        return mlm_loss + nsp_loss, sequences, self._sums(*parts), {
            'mlm': (mlm_loss, weights.sum()), 'nsp': (nsp_loss, sequences)}

    def evaluate(self, model, data: PretrainingEvalBatches) -> Dict[str, float]:
        metrics = dev_ratios(data.batches(), lambda batch: self._sums(*self._losses(model, batch)))
        metrics['loss'] = metrics['mlm_loss'] + metrics['nsp_loss']
        metrics['mlm_perplexity'] = float(np.exp(min(metrics['mlm_loss'], 50.0)))
        return metrics

    def save_best(self, model, folder):
        model_folder.save_model(model, self.vocab, folder, self.tokenizer, param_dtype=self.param_dtype,
                                extra={'pretraining': self.saved_info}, overwrite=True)


PretrainResult = RunResult  # kept as a name of its own: it is what the public API returns
"""What :func:`pretrain` returns: the run's folder, its history and whether it was stopped (a ``RunResult``)."""


def _data_digest(data: PretrainingData) -> str:
    return hashlib.sha256((data.folder / MANIFEST_FILE).read_bytes()).hexdigest()


def _shard_report(shards: List[ShardFile]) -> Dict[str, Any]:
    return {'shards': [s.path.name for s in shards], 'chunks': sorted({s.chunk for s in shards}),
            'instances': sum(s.instances for s in shards)}


@dataclass(frozen=True)
class Objective:
    """A pretraining objective: ``build(settings, ctx) -> (model, vocab, tokenizer)``, ``task(vocab, tokenizer,
    saved_info, settings, ctx)`` (the trainer's task) and ``parameters(model) -> dict`` (what run.json records of the
    model's size); ``architectures``: the model architectures it pretrains (a model of another is pointed to the
objective that trains it). A new objective is a module with these and one :data:`OBJECTIVES` registration below."""
    name: str
    build: Callable
    task: Callable
    parameters: Callable
    architectures: Tuple[str, ...] = ()


def _bert_build(settings: PretrainSettings, ctx):
    return build_pretraining_model(settings.model, settings.from_scratch, settings.vocab, settings.model_overrides,
                                   settings.dropout, seed=settings.training.seed, ctx=ctx)


def _electra_task(vocab, tokenizer, saved_info, settings: PretrainSettings, ctx):
    from .electra import ElectraPretrainingTask
    return ElectraPretrainingTask(vocab, tokenizer, saved_info, settings.param_dtype, settings.rtd_weight, ctx=ctx)


def _electra_parameters(model) -> Dict[str, Any]:
    generator = model.generator.kobert_config
    return {'parameters': model.kobert_config.num_parameters(use_discriminator=True),
            'generator': {'electra': generator.to_dict(), 'parameters': generator.num_parameters(use_decoder=True)}}


OBJECTIVES.register('bert', Objective(
    'bert', _bert_build,
    lambda vocab, tokenizer, saved_info, settings, ctx: PretrainingTask(vocab, tokenizer, saved_info,
                                                                        settings.param_dtype, ctx=ctx),
    lambda model: {'parameters': model.kobert_config.num_parameters(True, True, True)}, architectures=('bert',)))
OBJECTIVES.register('electra', Objective('electra', build_electra_model, _electra_task, _electra_parameters,
                                         architectures=('electra',)))


def _model_report(model, objective: Objective) -> Dict[str, Any]:
    """What run.json records of the model: its architecture, config and size (ELECTRA: the generator's too)."""
    from ..models.building import architecture_for_config
    config = model.kobert_config
    name = architecture_for_config(config).name
    return dict({'architecture': name, name: config.to_dict()}, **objective.parameters(model))


def _dev_shards(settings: PretrainSettings, data: PretrainingData, vocab):
    """``(training shards, dev shards or [], where dev comes from)``."""
    if settings.dev_data:
        dev_data = PretrainingData(settings.dev_data)
        dev_data.check_vocab(vocab)
        train_shards, dev_shards = shard_files(data), shard_files(dev_data)
        # a shard is a row here: the same content (SHA-256, recorded in the folder's marker) is the same instances
        check_dev_apart(data.folder, dev_data.folder, _shard_checksums(data, train_shards),
                        _shard_checksums(dev_data, dev_shards), {'train': 'data', 'dev': 'dev_data'},
                        unit='instances', weights=[s.instances for s in dev_shards])
        return train_shards, dev_shards, str(dev_data.folder)
    if settings.dev_chunks == 0:
        return shard_files(data), [], None
    train, dev = split_dev_chunks(data, settings.dev_chunks)
    return train, dev, str(data.folder)


def _shard_checksums(data: PretrainingData, shards: List[ShardFile]) -> List[str]:
    recorded = (read_marker(data.folder) or {}).get('sha256') or {}
    return [recorded.get(shard.path.name) or sha256_of(shard.path) for shard in shards]


def shard_batches(settings, data: PretrainingData, vocab, config, ranks: Ranks, ctx):
    """``(training shards, dev shards, where dev comes from, training batches, dev batches or None)`` of a run on
    ``data`` (pretraining or distillation settings) for a model of ``config`` (this rank's part of every batch)."""
    if data.options.max_seq_length > config.max_length:
        raise InputError('{} holds sequences of up to {} tokens but the model has only {} positions (max_length)'
                         .format(data.folder, data.options.max_seq_length, config.max_length))
    train_shards, dev_shards, dev_source = _dev_shards(settings, data, vocab)
    train = PretrainingBatches(train_shards, settings.batch_size, seed=settings.training.seed,
                               bucket_window=settings.bucket_window, num_ranks=ranks.size, rank=ranks.rank,
                               data_digest=_data_digest(data), ctx=ctx)
    dev = (PretrainingEvalBatches(dev_shards, settings.eval_batch_size, settings.max_dev_instances, ctx=ctx)
           if dev_shards else None)
    return train_shards, dev_shards, dev_source, train, dev


def pretrain(settings: PretrainSettings, out, resume: bool = False, overwrite: bool = False,
             should_stop: Optional[Callable[[Dict[str, Any]], bool]] = None, log: Optional[Callable[[str], None]] = None,
             ctx=None, ranks: Ranks = SINGLE, device=None, dtype: str = 'float32') -> PretrainResult:
    """Pretrain as ``settings`` say, in the run folder ``out``; see the module docstring for its contents.

    An existing non-empty ``out`` is refused unless ``overwrite`` (it must be a previous run folder) or
    ``resume`` (continue from its checkpoint; the settings must match ``run.json``). ``ranks``: this process's place
    in a data-parallel job (``settings.batch_size`` is the global batch; only rank 0 owns the run folder).
    ``device`` (``ctx``: its older name) and ``dtype``: where and in what precision to train, as for fine-tuning
    (:mod:`kobert_gluon.training.placement`).
    """
    out = Path(out)
    placement = place_training(device if device is not None else ctx, dtype, ranks)
    log = log or logging.getLogger(__name__).info  # library code logs; the command line prints
    data = PretrainingData(settings.data)  # before touching out: a wrong --data must not create a folder
    check_global_batch(settings.batch_size, ranks)
    if not ranks.is_writer:  # one writer: rank 0 owns and locks the run folder; the other ranks only read
        return _pretrain_in(None, out, resume, data, settings, should_stop, log, placement, ranks)
    with RunFolder(out, 'pretraining', resume, overwrite, settings.input_paths()) as run:
        return _pretrain_in(run, out, resume, data, settings, should_stop, log, placement, ranks)


def _pretrain_in(run: Optional[RunFolder], out: Path, resume: bool, data: PretrainingData,
                 settings: PretrainSettings, should_stop, log, placement: Placement, ranks: Ranks) -> PretrainResult:
    ctx = placement.first
    if resume:
        check_resumed_settings(out, read_run_settings(out), settings.to_dict(), _RESUMABLE_CHANGES)
    objective = OBJECTIVES.get(settings.objective)
    model, vocab, tokenizer = objective.build(settings, ctx)
    data.check_vocab(vocab)
    train_shards, dev_shards, dev_source, train, dev = shard_batches(settings, data, vocab, model.kobert_config,
                                                                     ranks, ctx)
    log('training on {:,} instances in {} shards; dev: {}'.format(
        len(train), len(train_shards), '{:,} instances of {}'.format(len(dev), dev_source) if dev else 'none'))
    if run is not None:
        run.start()
    if not resume and ranks.is_writer:
        write_json(out / RUN_FILE, {
            'settings': settings.to_dict(),
            'model': _model_report(model, objective),
            'data': {'folder': str(data.folder), 'max_seq_length': data.options.max_seq_length,
                     'train': _shard_report(train_shards),
                     'dev': dict(_shard_report(dev_shards), source=dev_source, evaluated=len(dev))
                     if dev else None},
        })
    # the model folder travels: it names its data by folder name and manifest checksum, never by a local path
    saved_info = {'data': data.folder.name, 'data_manifest_sha256': _data_digest(data),
                  'max_seq_length': data.options.max_seq_length,
                  'vocab_sha256': data.manifest['vocab']['sha256']}
    task = objective.task(vocab, tokenizer, saved_info, settings, ctx)
    model.hybridize()
    trainer = Trainer(model, task, settings.training, out_dir=out, placement=placement,
                      log=log, ranks=ranks, on_checkpoint=run.checkpoint_written if run is not None else None)
    result = trainer.fit(train, dev, resume=resume, should_stop=should_stop)
    return PretrainResult(out, result.history, result.interrupted)
