"""Knowledge distillation (the DistilBERT recipe) on pretraining shards, with the one Trainer.

A *teacher* (a model folder or registered model with its masked-LM head) teaches a *student* with fewer layers:
a BERT of the teacher's width, or the ``distilbert`` architecture. This module supplies:

* :func:`build_student` -- the student, initialised from the teacher: embeddings copied, and of the teacher's
  ``L`` layers every ``L // N``-th (DistilKoBERT took layers 0, 4 and 8 of KoBERT's 12), plus the masked-LM head
  (and a BERT student's pooler);
* :class:`DistillationTask` -- the trainer's task. Over the masked positions (weighted by ``masked_lm_weights``)
  and the real (unpadded) positions:

  ``loss = alpha_ce * T^2 * KL(softmax(teacher / T) || softmax(student / T))``  (masked-LM logits)
  ``     + alpha_mlm * cross-entropy(student, masked ids)``
  ``     + alpha_cos * (1 - cos(student hidden, teacher hidden))``  (last layer, every real position)

  The teacher runs in inference mode outside the recorded graph (no gradients, no dropout);
* :func:`distill` -- data, dev hold-out, run folder, resume and the best model (lowest dev loss) exactly as
  :func:`~.pretrain.pretrain` has them. ``best/`` is a model folder with the masked-LM head, ready for
  ``finetune --model``.
"""
import logging
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from ..core.documents import write_json
from ..core.mxnet_stack import mx, autograd
from .measures import dev_ratios, real_positions
from ..core.errors import InputError
from ..models import folder as model_folder
from ..models.family_registry import get_family
from ..models.building import architecture_for_config, backbone_heads, get_architecture, initialize_random
from ..training.distributed import SINGLE, Ranks, check_global_batch
from ..training.run_folder import RUN_FILE, RunFolder, RunResult, check_resumed_settings, read_run_settings
from ..training.placement import Placement, place_training
from ..training.trainer import RESULT_NEUTRAL_SETTINGS, Trainer
from .batches import PretrainingEvalBatches
from .data import PretrainingData
from .pretrain import _data_digest, _shard_report, shard_batches
from .settings import DistillSettings

__all__ = ['DistillSettings', 'DistillationTask', 'build_student', 'student_layers', 'distill']

_LAYER = 'encoder.transformer_cells.'


def load_teacher(name, ctx=None):
    """The teacher with its masked-LM head and nothing else it need not run; ``(model, vocab, tokenizer)``."""
    from ..models.resolution import resolve_model
    source = resolve_model(name)
    if source.folder is not None and not source.saved_heads.get('use_decoder'):
        raise InputError('the teacher {} has no masked-LM head, which distillation trains the student to match; '
                         'give a model that has one: a pretrain run\'s best/, kobert-base, or an imported '
                         'BertForPreTraining / DistilBertForMaskedLM'.format(name))
    teacher, vocab = source.build(ctx=ctx, use_decoder=True, use_classifier=False)
    return teacher, vocab, source.tokenizer


def student_layers(teacher_layers: int, layers: int) -> List[int]:
    """Which teacher layer initialises each student layer: every ``teacher // student``-th from the first."""
    if layers > teacher_layers:
        raise InputError('a student of {} layers cannot be made from a teacher of {}'.format(layers, teacher_layers))
    step = teacher_layers // layers
    return [i * step for i in range(layers)]


def _student_config(teacher_config, architecture: str, layers: int, dropout):
    shape = dict(vocab_size=teacher_config.vocab_size, num_layers=layers, units=teacher_config.units,
                 hidden_size=teacher_config.hidden_size, max_length=teacher_config.max_length,
                 num_heads=teacher_config.num_heads, activation=teacher_config.activation,
                 layer_norm_eps=teacher_config.layer_norm_eps,
                 dropout=teacher_config.dropout if dropout is None else dropout)
    # the embedding width and token types of the teacher, for a student architecture whose config has them
    shape.update(embed_size=getattr(teacher_config, 'embed_size', teacher_config.units),
                 token_type_vocab_size=getattr(teacher_config, 'token_type_vocab_size', 2))
    config_class = get_architecture(architecture).config_class
    return config_class(**{k: v for k, v in shape.items() if k in config_class.__dataclass_fields__})


def build_student(teacher, layers: int, architecture: Optional[str] = None, dropout=None, ctx=None, seed=0):
    """A student of ``layers`` layers with the teacher's width, initialised from ``teacher``; returns
    ``(student, {student parameter: teacher parameter it was copied from})``."""
    teacher_config = teacher.kobert_config
    architecture = architecture or architecture_for_config(teacher_config).name
    config = _student_config(teacher_config, architecture, layers, dropout)
    # The masked-LM head, and the pooler where the family keeps it in its pretrained backbone (BERT's, copied from the
    # teacher); a pooler that belongs to the classification head (DistilBERT's pre-classifier) is new at fine-tuning
    student_architecture = get_architecture(architecture)
    pooler = get_family(architecture).transformers.pooler_in_backbone
    heads = student_architecture.take_heads(dict(backbone_heads(pooler), use_decoder=True))
    student = student_architecture.build(config, **heads)
    initialize_random(student, ctx, seed=seed)
    chosen = student_layers(teacher_config.num_layers, layers)
    source = teacher._collect_params_with_prefix()
    copied = {}
    for name, param in student._collect_params_with_prefix().items():
        origin = name
        if name.startswith(_LAYER):
            index, rest = name[len(_LAYER):].split('.', 1)
            origin = '{}{}.{}'.format(_LAYER, chosen[int(index)], rest)
        if origin in source and name not in copied:
            value = source[origin].data()
            if param._deferred_init:
                param.shape = value.shape
                param._finish_deferred_init()
            if tuple(param.shape) == value.shape:
                param.set_data(value.copy())
                copied[name] = origin
    return student, copied


class DistillationTask:
    """The trainer's task: the student is the trained model, the teacher a fixed part of the task."""
    metric = 'loss'
    higher_is_better = False

    def __init__(self, teacher, settings: DistillSettings, vocab=None, tokenizer=None,
                 saved_info: Optional[Dict[str, Any]] = None, ctx=None):
        self.teacher = teacher
        self.temperature = settings.temperature
        self.alphas = {'ce': settings.alpha_ce, 'mlm': settings.alpha_mlm, 'cos': settings.alpha_cos}
        self.vocab = vocab
        self.tokenizer = tokenizer
        self.saved_info = saved_info or {}
        self.param_dtype = settings.param_dtype
        self.ctx = ctx or mx.cpu()

    def terms(self, student, batch, ctx=None):
        """The three loss terms of one batch (scalars in the recorded graph) and the weights they were averaged
        over: ``({'ce', 'mlm', 'cos'}, masked predictions, real positions)``, computed on ``ctx`` (None: the task's
        device; the teacher has its weights on every training device)."""
        ctx = ctx or self.ctx
        (input_ids, segment_ids, valid_length, positions, masked_ids, weights, _) = \
            [x.as_in_context(ctx) for x in batch]
        with autograd.pause(train_mode=False):  # the teacher: inference mode, outside the graph
            taught = self.teacher(input_ids, segment_ids, valid_length, positions)
        outputs = student(input_ids, segment_ids, valid_length, positions)
        s_hidden, s_logits = outputs[0], outputs[-1]
        t_hidden, t_logits = taught[0].detach(), taught[-1].detach()
        weights = weights.astype('float32')
        predictions = weights.sum()
        temperature = self.temperature
        s_log_p = mx.nd.log_softmax(s_logits / temperature, axis=-1)
        t_log_p = mx.nd.log_softmax(t_logits / temperature, axis=-1)
        kl = (mx.nd.exp(t_log_p) * (t_log_p - s_log_p)).sum(axis=-1)  # (batch, predictions)
        ce = (kl * weights).sum() / (predictions + 1e-8) * temperature ** 2
        log_p = mx.nd.log_softmax(s_logits, axis=-1)
        picked = mx.nd.pick(log_p, masked_ids.astype('float32'), axis=-1)
        mlm = -(picked * weights).sum() / (predictions + 1e-8)
        length = input_ids.shape[1]
        real = real_positions(valid_length, length, ctx)  # (batch, length)
        dot = (s_hidden * t_hidden).sum(axis=-1)
        norms = mx.nd.sqrt((s_hidden ** 2).sum(axis=-1) * (t_hidden ** 2).sum(axis=-1)) + 1e-8
        cos = ((1 - dot / norms) * real).sum() / (real.sum() + 1e-8)
        return {'ce': ce, 'mlm': mlm, 'cos': cos}, predictions, real.sum()

    def _total(self, terms):
        return sum(self.alphas[name] * value for name, value in terms.items())

    @staticmethod
    def _sums(terms, predictions, positions):
        """Each term as ``(mean * weight, weight)``: the KL and MLM terms per prediction, cos per real position."""
        return {'loss_' + name: (value.detach() * (positions if name == 'cos' else predictions),
                                 positions if name == 'cos' else predictions) for name, value in terms.items()}

    def loss(self, model, batch):
        terms, predictions, positions = self.terms(model, batch, batch[0].context)
        counts = {name: (self.alphas[name] * value, positions if name == 'cos' else predictions)
                  for name, value in terms.items()}
        return self._total(terms), int(batch[0].shape[0]), self._sums(terms, predictions, positions), counts

    def evaluate(self, model, data: PretrainingEvalBatches) -> Dict[str, float]:
        metrics = dev_ratios(data.batches(), lambda batch: self._sums(*self.terms(model, batch)))
        metrics['loss'] = sum(self.alphas[name] * metrics['loss_' + name] for name in self.alphas)
        metrics['mlm_perplexity'] = float(np.exp(min(metrics['loss_mlm'], 50.0)))
        return metrics

    def save_best(self, model, folder):
        model_folder.save_model(model, self.vocab, folder, self.tokenizer, param_dtype=self.param_dtype,
                                extra={'distillation': self.saved_info}, overwrite=True)


def distill(settings: DistillSettings, out, resume: bool = False, overwrite: bool = False,
            should_stop: Optional[Callable[[Dict[str, Any]], bool]] = None,
            log: Optional[Callable[[str], None]] = None, ctx=None, ranks: Ranks = SINGLE, device=None,
            dtype: str = 'float32') -> RunResult:
    """Distill as ``settings`` say, in the run folder ``out`` (refused when it exists, unless ``overwrite`` (a
    previous run folder) or ``resume`` (continue from its checkpoint; the settings must match ``run.json``)).
    ``ranks``: this process's place in a data-parallel job (``settings.batch_size`` is the global batch; only rank 0
    owns the run folder). ``device`` (``ctx``: its older name) and ``dtype``: where and in what precision to train,
    as for fine-tuning (:mod:`kobert_gluon.training.placement`); the teacher computes on the same devices."""
    out = Path(out)
    placement = place_training(device if device is not None else ctx, dtype, ranks)
    ctx = placement.first
    log = log or logging.getLogger(__name__).info
    data = PretrainingData(settings.data)  # before touching out: a wrong --data must not create a folder
    check_global_batch(settings.batch_size, ranks)
    teacher, vocab, tokenizer = load_teacher(settings.teacher, ctx=ctx)
    if len(placement.contexts) > 1:  # each device's part of a batch meets the teacher on that device
        teacher.collect_params().reset_ctx(placement.contexts)
    data.check_vocab(vocab)
    if not ranks.is_writer:  # one writer: rank 0 owns and locks the run folder; the other ranks only read
        return _distill_in(None, out, resume, data, teacher, vocab, tokenizer, settings, should_stop, log, placement,
                           ranks)
    with RunFolder(out, 'distillation', resume, overwrite, settings.input_paths()) as run:
        return _distill_in(run, out, resume, data, teacher, vocab, tokenizer, settings, should_stop, log, placement,
                           ranks)


def _distill_in(run: Optional[RunFolder], out: Path, resume: bool, data: PretrainingData, teacher, vocab, tokenizer,
                settings: DistillSettings, should_stop, log, placement: Placement, ranks: Ranks) -> RunResult:
    ctx = placement.first
    if resume:
        check_resumed_settings(out, read_run_settings(out), settings.to_dict(), RESULT_NEUTRAL_SETTINGS)
    student, copied = build_student(teacher, settings.student_layers, settings.student_architecture,
                                    settings.dropout, ctx=ctx, seed=settings.training.seed)
    config = student.kobert_config
    train_shards, dev_shards, dev_source, train, dev = shard_batches(settings, data, vocab, config, ranks, ctx)
    chosen = student_layers(teacher.kobert_config.num_layers, settings.student_layers)
    log('student: {} layers from teacher layers {}; {:,} of its tensors copied from the teacher; training on '
        '{:,} instances; dev: {}'.format(settings.student_layers, chosen, len(copied), len(train),
                                         '{:,} instances'.format(len(dev)) if dev else 'none'))
    if run is not None:
        run.start()
    if not resume and ranks.is_writer:
        write_json(out / RUN_FILE, {
            'settings': settings.to_dict(),
            'student': {'architecture': architecture_for_config(config).name, 'config': config.to_dict(),
                        'teacher_layers': chosen, 'copied_from_teacher': len(copied)},
            'data': {'folder': str(data.folder), 'train': _shard_report(train_shards),
                     'dev': dict(_shard_report(dev_shards), source=dev_source, evaluated=len(dev))
                     if dev else None},
        })
    saved_info = {'teacher': Path(settings.teacher).name, 'teacher_layers': chosen, 'data': data.folder.name,
                  'data_manifest_sha256': _data_digest(data), 'temperature': settings.temperature,
                  'alphas': {'ce': settings.alpha_ce, 'mlm': settings.alpha_mlm, 'cos': settings.alpha_cos}}
    task = DistillationTask(teacher, settings, vocab, tokenizer, saved_info, ctx=ctx)
    teacher.hybridize()
    student.hybridize()
    trainer = Trainer(student, task, settings.training, out_dir=out, placement=placement,
                      log=log, ranks=ranks, on_checkpoint=run.checkpoint_written if run is not None else None)
    result = trainer.fit(train, dev, resume=resume, should_stop=should_stop)
    return RunResult(out, result.history, result.interrupted)

