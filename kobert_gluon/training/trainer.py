"""The one training loop: optimisation, schedule, clipping, accumulation, checkpoints, resume and logging.

Everything that differs between fine-tuning and pretraining lives in a *task* object and a *data* object;
the loop itself knows neither. A task provides::

    task.loss(model, batch) -> (mean loss NDArray of shape (1,) or (), number of sequences in the batch)
        called inside ``autograd.record()``; the trainer calls ``backward``. The trainer has put the batch's arrays
        on the device that computes it (with several devices, each part of a batch on its own): the loss computes
        where its batch is (``batch[0].context``), not on a device of its own. It may return a third item,
        ``{name: (numerator, denominator)}`` (floats or one-element NDArrays, e.g. correct predictions and
        predictions): the trainer sums both over a step's micro-batches and logs numerator / denominator per
        step (``metrics.json``, the progress bar, ``log_every`` lines), e.g. pretraining's MLM/NSP accuracy.
        A fourth item, ``{term: (mean NDArray, count)}`` with the loss equal to the sum of the means, says what each
        term is averaged over (masked positions, sequences, labelled tokens): data-parallel training then divides
        each term by its count over all ranks, which makes N ranks compute one process's gradient exactly.
    task.evaluate(model, dev) -> {metric name: float}      (dev is whatever was passed to ``fit``)
    task.metric                                               name of the metric that picks the best epoch
    task.higher_is_better                                     optional, default True
    task.save_best(model, folder)                             optional: write the best model (a model folder)

and the training data provides ``num_batches(epoch)``, ``batches(epoch, start)`` (an iterator that skips the
first ``start`` batches) and ``fingerprint(epoch)`` (a digest of that epoch's order). The batch order must be
a pure function of the epoch (:class:`~kobert_gluon.training.text_batches.TextBatches` derives it from
``(seed, epoch)``), which is what makes resuming exact.

Length of training: ``epochs`` passes over the data, cut short at ``max_steps`` optimisation steps when that
is set (``epochs=0``: as many passes as ``max_steps`` needs); the learning-rate schedule spans exactly the steps
that will run. Evaluation happens at epoch ends, or with ``eval_every`` every that many steps and after the
last one (then recorded in ``history['evaluations']``; the best model is picked among them): pretraining is
measured in steps, fine-tuning in epochs.

Resume is exact, not approximate: a checkpoint holds the parameters, the optimizer states (Adam moments and
update counts), Python/numpy RNG states, the epoch, the step and the number of batches done in the epoch,
the running epoch loss, the history and the data-order fingerprint. MXNet cannot save its own RNG state, so
the trainer reseeds it from ``(seed, step)`` before every optimisation step: dropout masks depend only on the
step, whether or not the process was restarted in between.

A checkpoint is a folder, ``checkpoint/``, with no pickle in it: ``params.params`` (MXNet's own format),
``optimizer.states`` (the gluon Trainer's), and ``state.json`` (progress, history, data-order fingerprint,
settings, Python/numpy RNG states); its marker records the SHA-256 of each (see :mod:`.owned_folders`). It is
written to a temporary sibling and swapped into place, so a kill at any moment leaves the previous one, and a
damaged one is refused with the name of the file. Ctrl-C (SIGINT) does not lose the work done: the current
step finishes, a checkpoint is written, and ``KeyboardInterrupt`` is raised (a second Ctrl-C stops at once).

Data-parallel (``ranks``, a :class:`~.distributed.Ranks` of a Horovod job): every rank starts from rank 0's
weights; the data object gives each rank its part of every global batch (``BucketBatchSampler(num_shards=,
shard=)``) and says how many examples each part has (``shares(epoch)``); each rank divides its loss terms by their
counts over all ranks (the task's fourth ``loss`` item; a task that gives none is taken as a mean over sequences
and weighted by the rank's share of them), so the all-reduced gradient (``hvd.DistributedTrainer``) is the one a
single process would compute on the whole batch; clipping applies to that mean gradient. Step losses and task metrics are summed over the ranks
before they are logged, every rank evaluates the whole dev set and takes the ranks' mean of each metric, and the
decisions that must agree (stop, Ctrl-C) are votes over all ranks. Only rank 0 writes files and logs. A checkpoint
records the number of ranks, and resuming with another number is refused (the batch parts would differ).

Several devices in one process (``placement``: what :func:`~.placement.place_training` made of a device argument
such as ``'gpu:0,1'``, see :mod:`~kobert_gluon.core.devices`): the weights are copied to every device, each batch is split into one part per
device (every n-th example, the rows a rank of an n-rank job would take), each part's loss is weighted exactly as a
rank's, the gluon Trainer's kvstore sums the devices' gradients and the update divides the sum by their number.
So N devices compute one device's update, to float rounding. Evaluation runs on the first device. Checkpoints are
device-free (weights and optimizer states are written from the CPU), so a run resumes on any number of devices of
either kind. A Horovod rank takes one device (one rank per GPU).

Mixed precision (``dtype='float16'``, GPUs only; :mod:`.precision`): MXNet's AMP computes in float16 with float32
weights; the loss is scaled before ``backward`` and the gradients unscaled after the all-reduce, a step whose
gradients overflowed is skipped (its gradient norm logged as null) and the scale halved. The scaler's state is in
the checkpoint.
"""
import json
import logging
import math
import random
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from ..core.mxnet_stack import mx, gluon, autograd, amp, nlp
from ..core.progress import steps as progress_steps  # (`progress` names the run's position here)
from ..core.atomic_files import atomic_write_bytes
from ..core.documents import read_document, write_json
from ..core.errors import InputError
from ..core.owned_folders import FolderKind, register_folder_kind, verify_folder, write_folder_atomically
from ..core.devices import describe_devices
from .distributed import SINGLE, Ranks, rank_weight
from .placement import ON_CPU, Placement
from .precision import LossScaler
from .run_layout import BEST_FOLDER, CHECKPOINT_FOLDER, LEGACY_CHECKPOINT_FILE, METRICS_FILE, PLOT_FILE
from .settings import RESULT_NEUTRAL_SETTINGS, TrainingConfig

__all__ = ['TrainingConfig', 'Trainer', 'TrainingResult', 'learning_rate_at', 'CHECKPOINT_FOLDER', 'METRICS_FILE',
           'PLOT_FILE', 'BEST_FOLDER', 'LEGACY_CHECKPOINT_FILE', 'read_checkpoint']

CHECKPOINT_PARAMS = 'params.params'
CHECKPOINT_STATES = 'optimizer.states'
CHECKPOINT_STATE = 'state.json'
CHECKPOINT_KIND = register_folder_kind(FolderKind(
    'checkpoint', 'training checkpoint', (CHECKPOINT_PARAMS, CHECKPOINT_STATES, CHECKPOINT_STATE))).name
CHECKPOINT_FORMAT = 'kobert-gluon-checkpoint'
CHECKPOINT_VERSION = 2  # 1 was 0.1's pickle
# Steps averaged for the running task metrics shown in the progress bar.
RUNNING_WINDOW = 50
# Parameters that get no weight decay, as in BERT: biases and LayerNorm's gamma/beta.
NO_DECAY_PATTERN = '.*bias|.*gamma|.*beta'


def learning_rate_at(step: int, total_steps: int, peak: float, warmup_steps: int, schedule: str) -> float:
    """Learning rate of optimisation step ``step`` (0-based) of ``total_steps``.

    Linear warmup ``peak * (step + 1) / warmup_steps``, then linear or cosine decay that reaches
    ``peak / (total_steps - warmup_steps)`` (not 0) on the last step, so no step is wasted with a zero rate.
    """
    if total_steps < 1:
        raise ValueError('total_steps must be positive')
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    if schedule == 'constant':
        return peak
    decay_steps = max(1, total_steps - warmup_steps)
    done = min(step - warmup_steps, decay_steps - 1)  # 0 .. decay_steps - 1
    if schedule == 'linear':
        return peak * (decay_steps - done) / decay_steps
    if schedule == 'cosine':
        return peak * 0.5 * (1.0 + math.cos(math.pi * done / decay_steps))
    raise ValueError('unknown schedule {!r}'.format(schedule))


@dataclass
class TrainingResult:
    """What ``fit`` returns: the history (also in ``metrics.json``) and whether a stop hook interrupted it."""
    history: Dict[str, Any]
    global_step: int
    interrupted: bool

    @property
    def best(self) -> Optional[Dict[str, Any]]:
        return self.history.get('best')


def read_checkpoint(folder) -> Dict[str, Any]:
    """The state of a checkpoint folder written by :class:`Trainer` (``state.json``: progress, history, ...),
    after checking every file of the folder against its recorded SHA-256."""
    folder = Path(folder)
    legacy = folder.parent / LEGACY_CHECKPOINT_FILE
    if not folder.is_dir() and legacy.is_file():
        raise InputError('{} is a checkpoint of kobert-gluon 0.1, which pickled its checkpoints; this version does '
                         'not load pickles (loading one can run any code). Finish that run with kobert-gluon 0.1, '
                         'or start it again with --overwrite'.format(legacy))
    if not (folder / CHECKPOINT_STATE).is_file():
        raise FileNotFoundError('no checkpoint at {}; there is nothing to resume'.format(folder))
    if verify_folder(folder, CHECKPOINT_KIND) is None:
        raise InputError('{} has no checksums (kobert-gluon-folder.json is missing), so it cannot be trusted; '
                         'start the run again with --overwrite'.format(folder))
    return read_document(folder / CHECKPOINT_STATE, CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
                         'kobert-gluon training checkpoint', advice='start the run again with --overwrite')


def _rng_state_to_json() -> Dict[str, Any]:
    version, internal, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {'python': [version, list(internal), gauss],
            'numpy': [kind, keys.tolist(), int(position), int(has_gauss), float(cached)]}


def _restore_rng_state(state: Dict[str, Any]) -> None:
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    kind, keys, position, has_gauss, cached = state['numpy']
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), position, has_gauss, cached))


class _InterruptRequest:
    """While training, the first Ctrl-C asks the loop to stop at the next step boundary (after writing a
    checkpoint) instead of killing it mid-update; a second Ctrl-C raises at once."""

    def __init__(self, log):
        self.requested = False
        self._log = log
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self._log('interrupt: finishing this step and writing a checkpoint (Ctrl-C again to stop at once)')

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _json_safe(value):
    """NaN/inf (e.g. a correlation of constant predictions) as null: metrics.json stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _step_seed(seed: int, step: int) -> int:
    return (seed * 1000003 + step * 7919 + 1) % (2 ** 31 - 1)


class Trainer:
    """Trains ``model`` on a task; see the module docstring for the task and data protocols.

    ``out_dir`` receives ``checkpoint/``, ``metrics.json``, ``training.png`` and ``best/`` (via
    ``task.save_best``); ``None`` trains without writing anything. ``log`` receives one line per epoch
    (default: this module's logger, at INFO).
    ``make_optimizer(params, config) -> gluon.Trainer`` replaces the default (e.g. ``hvd.DistributedTrainer``).
    ``on_checkpoint()`` is called after every checkpoint written (the run folder drops a replaced run then).
    """

    def __init__(self, model, task, config: TrainingConfig, out_dir=None, placement: Placement = ON_CPU,
                 ranks: Ranks = SINGLE, log: Optional[Callable[[str], None]] = None,
                 make_optimizer: Optional[Callable] = None, on_checkpoint: Optional[Callable[[], None]] = None,
                 loss_scaler: Optional[LossScaler] = None):
        self.model = model
        self.task = task
        self.config = config
        self.out_dir = Path(out_dir) if out_dir is not None else None
        # placement: the devices and precision place_training read and checked (here nothing reads them again)
        self.contexts = placement.contexts
        self.ctx = placement.first  # where evaluation runs and what checkpoints are read from
        self.ranks = ranks
        self.rank, self.num_ranks = ranks.rank, ranks.size
        if ranks.distributed and len(self.contexts) > 1:
            raise InputError('a Horovod rank trains on one device ({} given): run one rank per GPU '
                             '(horovodrun -np N ... --device gpu; each rank takes its own)'
                             .format(describe_devices(self.contexts)))
        # the parts every global batch is split into: one per rank, or one per device of this process
        self.workers = ranks.size * len(self.contexts)
        if len(self.contexts) > 1:
            model.collect_params().reset_ctx(self.contexts)
        self.dtype = placement.dtype
        if self.dtype in ('float16', 'bfloat16') and not _amp_on():
            raise ValueError('dtype {}: call training.placement.place_training before building the model'
                             .format(self.dtype))
        self.loss_scaler = loss_scaler if loss_scaler is not None else (
            LossScaler() if self.dtype == 'float16' else None)
        self.is_writer = ranks.is_writer
        if make_optimizer is None and ranks.distributed:
            make_optimizer = ranks.make_optimizer
        self._on_checkpoint = on_checkpoint
        log = log or logging.getLogger(__name__).info  # library code logs; the command line prints
        self._log = log if self.is_writer else (lambda message: None)
        self.params = [p for p in model.collect_params().values() if p.grad_req != 'null']
        # gradients accumulate over micro-batches and are zeroed after each step; under bfloat16 AMP, MXNet 1.9
        # leaves every gradient 0 with grad_req='add' (measured: a BERT classifier's, layer norms included), so
        # there they are written and summed over the step's micro-batches here
        self._summed = _WrittenGradientSums(self.params) if self.dtype == 'bfloat16' else None
        for param in self.params:
            param.grad_req = 'write' if self._summed is not None else 'add'
        for param in model.collect_params(NO_DECAY_PATTERN).values():
            param.wd_mult = 0.0
        self.optimizer = (make_optimizer or self._default_optimizer)(model.collect_params(), config)

    @staticmethod
    def _default_optimizer(params, config):
        options = dict(config.optimizer_params)
        options.update(learning_rate=config.learning_rate, wd=config.weight_decay)
        # update_on_kvstore=False: gradients are all-reduced, then clipped, then applied (three separate calls).
        return gluon.Trainer(params, config.optimizer, options, kvstore=config.kvstore, update_on_kvstore=False)

    @property
    def higher_is_better(self) -> bool:
        return getattr(self.task, 'higher_is_better', True)

    # ----- checkpoints -------------------------------------------------------------------------------------
    def _checkpoint_path(self) -> Path:
        return self.out_dir / CHECKPOINT_FOLDER

    def _save_checkpoint(self, progress: Dict[str, Any], history: Dict[str, Any], fingerprint: str) -> None:
        if not self.is_writer or self.out_dir is None:
            return
        state = {
            'format': CHECKPOINT_FORMAT, 'version': CHECKPOINT_VERSION,
            'progress': dict(progress),
            'history': _json_safe(history),
            'data_fingerprint': fingerprint,
            'num_ranks': self.num_ranks,
            'rng': _rng_state_to_json(),
            'config': self.config.to_dict(),
        }

        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state()
        state['devices'] = describe_devices(self.contexts)  # for the record: a run may resume on other devices
        state['dtype'] = self.dtype

        def write(tmp: Path) -> None:
            # device-free: the values are copied to the CPU, so a run started on a GPU resumes on a CPU and back
            params = {name: param.data(self.ctx).as_in_context(mx.cpu())
                      for name, param in self.model._collect_params_with_prefix().items()}
            mx.nd.save(str(tmp / CHECKPOINT_PARAMS), params)
            _save_optimizer_states(self.optimizer, tmp / CHECKPOINT_STATES)
            write_json(tmp / CHECKPOINT_STATE, state, indent=None)

        write_folder_atomically(self._checkpoint_path(), CHECKPOINT_KIND, write, overwrite=True)
        if self._on_checkpoint is not None:
            self._on_checkpoint()

    def _restore_checkpoint(self, payload: Dict[str, Any]) -> None:
        # A checkpoint from before a setting existed was written with that setting's default.
        saved = dict(TrainingConfig().to_dict(), **payload['config'])
        current = self.config.to_dict()
        changed = sorted(k for k in current if k not in RESULT_NEUTRAL_SETTINGS and saved.get(k) != current[k])
        if changed:
            raise InputError('the checkpoint was written with different training settings ({}); resume with the '
                             'same settings or start a new run'.format(', '.join(
                                 '{}: {!r} -> {!r}'.format(k, saved.get(k), current[k]) for k in changed)))
        saved_ranks = payload.get('num_ranks', 1)  # checkpoints from before data-parallel training: one process
        if saved_ranks != self.num_ranks:
            raise InputError('the checkpoint was written by {} rank(s), this run has {}: resume with the same number '
                             '(each rank\'s part of every batch depends on it)'.format(saved_ranks, self.num_ranks))
        folder = self._checkpoint_path()
        saved_params = mx.nd.load(str(folder / CHECKPOINT_PARAMS))
        named = self.model._collect_params_with_prefix()
        missing = sorted(set(named) - set(saved_params))
        if missing:
            raise InputError('the checkpoint has no values for {} parameter(s), e.g. {}: it belongs to another '
                             'model'.format(len(missing), missing[0]))
        for name, param in named.items():
            value = saved_params[name]
            if tuple(value.shape) != tuple(param.shape):
                raise InputError('checkpoint parameter {} has shape {}, the model expects {}'
                                 .format(name, value.shape, param.shape))
            param.set_data(value.as_in_context(self.ctx))
        self.optimizer.load_states(str(folder / CHECKPOINT_STATES))  # MXNet moves them to each weight's device
        if self.loss_scaler is not None and 'loss_scaler' in payload:
            self.loss_scaler.load(payload['loss_scaler'])
        _restore_rng_state(payload['rng'])

    # ----- outputs -----------------------------------------------------------------------------------------
    def _write_metrics(self, history: Dict[str, Any]) -> None:
        if not self.is_writer or self.out_dir is None:
            return
        history = _json_safe(history)
        # One line per step keeps the file readable and small (thousands of steps per epoch on real data).
        head = json.dumps({k: v for k, v in history.items() if k != 'steps'}, ensure_ascii=False, indent=1)
        steps = ',\n'.join('  ' + json.dumps(step) for step in history['steps'])
        text = head[:-2] + ',\n "steps": [\n' + steps + '\n ]\n}\n'
        atomic_write_bytes(self.out_dir / METRICS_FILE, text.encode('utf-8'))
        from .plotting import training_plot_png
        try:  # written whole under a unique name, then renamed: readers never see a half-written image
            atomic_write_bytes(self.out_dir / PLOT_FILE, training_plot_png(history, getattr(self.task, 'metric', None)))
        except ImportError as err:  # the plot is a convenience; a missing matplotlib must not lose a run
            self._log('warning: no {} written ({})'.format(PLOT_FILE, err))

    def _is_better(self, value: float, best: Optional[Dict[str, Any]]) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if best is None:
            return True
        return value > best['value'] if self.higher_is_better else value < best['value']

    # ----- the loop ----------------------------------------------------------------------------------------
    def plan(self, train) -> Tuple[int, int]:
        """``(epochs, total optimisation steps)`` this configuration runs on ``train``."""
        config = self.config
        epochs = total = 0
        while (config.epochs and epochs < config.epochs) or (not config.epochs and total < config.max_steps):
            steps = math.ceil(train.num_batches(epochs) / config.accumulate)
            if steps < 1:
                raise InputError('epoch {} of the training data has no batches'.format(epochs + 1))
            total += steps
            epochs += 1
            if config.max_steps and total >= config.max_steps:
                return epochs, config.max_steps
        return epochs, total

    def total_steps(self, train) -> int:
        return self.plan(train)[1]

    def _warm_up(self, train, epoch: int) -> None:
        """One forward pass in training mode before the first seeded step.

        A hybridized block creates its random-number resource on the first call, after any earlier
        ``mx.random.seed``, so the very first step's dropout would not follow the seed. Running one throw-away
        forward first makes a fresh and a resumed process draw the same masks from the per-step seeds.
        """
        batch = next(iter(train.batches(epoch, 0)))
        with autograd.record():
            losses = [self.task.loss(self.model, part)[0] for part, _ in self._device_parts(batch, None)]
        for loss in losses:  # every device's random resource exists before the first seeded step
            loss.wait_to_read()

    def fit(self, train, dev=None, resume: bool = False,
            should_stop: Optional[Callable[[Dict[str, Any]], bool]] = None) -> TrainingResult:
        """Train as the config says (see the module docstring), evaluating on ``dev``; returns the history.

        ``resume=True`` continues from ``out_dir/checkpoint/``. ``should_stop(progress)`` is asked after every
        step; when it returns True the loop stops at once without writing anything more, exactly as if the
        process had been killed there (used to test resuming, or for time limits). Ctrl-C stops after the
        current step with a checkpoint written, raising ``KeyboardInterrupt``.
        """
        with _InterruptRequest(self._log) as interrupt:
            self._interrupt = interrupt
            return self._fit(train, dev, resume, should_stop)

    def _stop_for_interrupt(self, progress: Dict[str, Any], total_steps: int, bar) -> None:
        if bar is not None:
            bar.close()
        where = ('a checkpoint is in {}: continue with --resume'.format(self._checkpoint_path())
                 if self.out_dir is not None else 'nothing was saved (no out_dir)')
        raise KeyboardInterrupt('stopped at step {} of {}; {}'.format(progress['step'], total_steps, where))

    def _fit(self, train, dev, resume: bool, should_stop) -> TrainingResult:
        config = self.config
        acc = config.accumulate
        num_epochs, total_steps = self.plan(train)
        self._num_epochs = num_epochs
        warmup_steps = (min(config.warmup_steps, total_steps) if config.warmup_steps is not None
                        else int(config.warmup_ratio * total_steps))
        progress = {'epoch': 0, 'batch': 0, 'step': 0, 'epoch_loss_sum': 0.0, 'epoch_sequences': 0,
                    'epoch_seconds': 0.0}
        # steps: [step, loss, learning rate, gradient norm before clipping(, {task metric: value})] per step
        history: Dict[str, Any] = {'epochs': [], 'steps': [], 'best': None, 'total_steps': total_steps}
        if config.eval_every:
            history['evaluations'] = []
        if self.out_dir is not None and self.is_writer:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            if self.out_dir is None:
                raise ValueError('resume=True needs out_dir, where the checkpoint is')
            payload = read_checkpoint(self._checkpoint_path())
            # The warm-up pass also completes deferred parameter initialisation, so values can be restored.
            self._warm_up(train, min(payload['progress']['epoch'], num_epochs - 1))
            self._restore_checkpoint(payload)
            progress, history = payload['progress'], payload['history']
            if history.get('total_steps') != total_steps:
                raise InputError('the checkpoint was written for {} steps in all, this data gives {}: the training '
                                 'data or batch size changed'.format(history.get('total_steps'), total_steps))
            unfinished = progress['epoch'] < num_epochs and progress['step'] < total_steps
            if unfinished and train.fingerprint(progress['epoch']) != payload['data_fingerprint']:
                raise InputError('the training data order differs from the checkpoint\'s (other data, seed or '
                                 'batch size); resume with the same data and settings')
            self._log('resumed at epoch {}, batch {}, step {} of {}'.format(
                progress['epoch'] + 1, progress['batch'], progress['step'], total_steps))
        if progress['epoch'] >= num_epochs or progress['step'] >= total_steps:
            return TrainingResult(history, progress['step'], False)

        if not resume:
            self._warm_up(train, progress['epoch'])
        # every rank from rank 0's weights (a resumed run: all read the same checkpoint; this keeps them bit-equal)
        self.ranks.broadcast_parameters(self.model.collect_params())
        log_window = _StepWindow()
        for epoch in range(progress['epoch'], num_epochs):
            num_batches = train.num_batches(epoch)
            fingerprint = train.fingerprint(epoch)
            bar = self._progress_bar(epoch, num_batches, progress['batch'], total_steps - progress['step'])
            started = time.time() - progress['epoch_seconds']
            window = _StepWindow()  # the micro-batches of the step being accumulated
            batch_index = progress['batch']
            shares = train.shares(epoch) if self.ranks.distributed else None
            for batch in train.batches(epoch, progress['batch']):
                window_start = batch_index // acc * acc
                window_size = min(acc, num_batches - window_start)
                if batch_index == window_start:
                    mx.random.seed(_step_seed(config.seed, progress['step']))
                parts = self._device_parts(batch, shares[batch_index] if shares is not None else None)
                with autograd.record():
                    outputs = [self.task.loss(self.model, part) for part, _ in parts]
                    losses = self._worker_losses(outputs, [share for _, share in parts])
                    if self.loss_scaler is not None:  # float16: gradients kept above underflow, divided later
                        losses = [(loss * self.loss_scaler.scale, loss_sum) for loss, loss_sum in losses]
                    # the step's gradient: the mean over its micro-batches
                    scaled = [loss / window_size for loss, _ in losses]
                autograd.backward(scaled)
                if self._summed is not None:
                    self._summed.add(last=batch_index + 1 == window_start + window_size)
                for output, (_, share), (_, loss_sum) in zip(outputs, parts, losses):
                    sequences = output[1] if share is None else share[0]  # a share of 0 examples: a stand-in
                    window.add(float(output[0].asscalar()), sequences, output[2] if len(output) > 2 else None,
                               weight=1.0 if sequences else 0.0, loss_sum=loss_sum)
                batch_index += 1
                if batch_index < window_start + window_size:
                    continue
                lr = learning_rate_at(progress['step'], total_steps, config.learning_rate, warmup_steps,
                                      config.schedule)
                grad_norm = self._optimisation_step(lr, progress['step'])
                if self.ranks.distributed:
                    window.sum_over(self.ranks)
                progress['step'] += 1
                progress['batch'] = batch_index
                progress['epoch_loss_sum'] += window.loss_sum
                progress['epoch_sequences'] += window.sequences
                entry = [progress['step'], window.mean_loss(), lr, grad_norm]
                if window.metrics:
                    entry.append(window.metric_values())
                history['steps'].append(entry)
                log_window.merge(window)
                if bar is not None:
                    bar.set_postfix(self._bar_values(history['steps'], window, lr), refresh=False)
                    bar.update(window_size)
                if config.log_every and progress['step'] % config.log_every == 0:
                    self._log_steps(progress['step'], total_steps, lr, log_window)
                    log_window = _StepWindow()
                window = _StepWindow()
                finished = progress['step'] >= total_steps
                mid_epoch = batch_index < num_batches and not finished
                evaluate = mid_epoch and config.eval_every and progress['step'] % config.eval_every == 0
                if evaluate:
                    self._evaluate_at_step(epoch, progress['step'], dev, history)
                if mid_epoch and (evaluate or (config.checkpoint_every
                                               and progress['step'] % config.checkpoint_every == 0)):
                    progress['epoch_seconds'] = time.time() - started
                    self._save_checkpoint(progress, history, fingerprint)
                    if evaluate:
                        self._write_metrics(history)
                stop = should_stop is not None and should_stop(dict(progress))
                if self.ranks.distributed:  # all ranks stop together, or the others would wait for them forever
                    votes = self.ranks.sum([float(stop), float(self._interrupt.requested)], 'kobert_gluon.stop')
                    stop, self._interrupt.requested = votes[0] > 0, votes[1] > 0
                if stop:
                    if bar is not None:
                        bar.close()
                    return TrainingResult(history, progress['step'], True)
                if self._interrupt.requested and mid_epoch:
                    progress['epoch_seconds'] = time.time() - started
                    self._save_checkpoint(progress, history, fingerprint)
                    self._write_metrics(history)
                    self._stop_for_interrupt(progress, total_steps, bar)
                if finished:  # max_steps reached mid-epoch: the epoch ends here
                    break
            if bar is not None:
                bar.close()
            seconds = time.time() - started
            finished = progress['step'] >= total_steps
            history['epochs'].append(self._end_of_epoch(epoch, progress, seconds, dev, history))
            if config.eval_every and (finished or progress['step'] % config.eval_every == 0):
                self._evaluate_at_step(epoch, progress['step'], dev, history)
            progress.update(epoch=epoch + 1, batch=0, epoch_loss_sum=0.0, epoch_sequences=0, epoch_seconds=0.0)
            more = not finished and epoch + 1 < num_epochs
            self._save_checkpoint(progress, history, train.fingerprint(epoch + 1) if more else '')
            self._write_metrics(history)
            if finished:
                break
            if self._interrupt.requested:
                self._stop_for_interrupt(progress, total_steps, None)
        return TrainingResult(history, progress['step'], False)

    @staticmethod
    def _bar_values(steps: List[list], window: '_StepWindow', lr: float) -> Dict[str, str]:
        values = {'loss': '{:.4f}'.format(window.mean_loss())}
        if window.metrics:  # single steps are noisy: the bar shows task metrics over the last steps
            recent = [entry[4] for entry in steps[-RUNNING_WINDOW:]]
            for name in window.metrics:
                points = [r[name] for r in recent if r.get(name) is not None]
                if points:
                    values[name] = '{:.4f}'.format(sum(points) / len(points))
        values.update(lr='{:.2e}'.format(lr), seq_s='{:.1f}'.format(window.sequences_per_second()))
        return values

    def _log_steps(self, step: int, total_steps: int, lr: float, window: '_StepWindow') -> None:
        metrics = ''.join(', {} {:.4f}'.format(name, value) for name, value in window.metric_values().items()
                          if value is not None)
        self._log('step {}/{}: loss {:.4f}{}, lr {:.2e} ({:.1f} seq/s)'.format(
            step, total_steps, window.mean_loss(), metrics, lr, window.sequences_per_second()))

    def _evaluate_at_step(self, epoch: int, step: int, dev, history) -> None:
        """``eval_every`` mode: evaluate now, record it in ``history['evaluations']``, keep the best model."""
        if dev is None:  # nothing to compare on: the latest model is the one kept
            history['best'] = {'epoch': epoch + 1, 'step': step, 'metric': None, 'value': None}
            self._save_best()
            return
        started = time.time()
        dev_metrics = self.ranks.mean_metrics(self.task.evaluate(self.model, dev), 'kobert_gluon.dev')
        history['evaluations'].append({'step': step, 'epoch': epoch + 1, 'dev': dev_metrics,
                                       'seconds': round(time.time() - started, 3)})
        metric = getattr(self.task, 'metric', None)
        if self._is_better(dev_metrics.get(metric) if metric else None, history['best']):
            history['best'] = {'epoch': epoch + 1, 'step': step, 'metric': metric, 'value': dev_metrics[metric]}
            self._save_best()
        self._log('step {}/{}: dev {}'.format(step, history['total_steps'], ', '.join(
            '{} {:.4f}'.format(k, v) for k, v in dev_metrics.items() if isinstance(v, float))))

    def _device_parts(self, batch, share) -> List[Tuple[Any, Optional[Tuple[int, int]]]]:
        """This process's parts of a batch, each on its device, with ``(its examples, the global batch's)``.

        One device: the batch itself (``share``: this rank's, from the data; None for one process). Several: every
        ``n``-th example of the batch for each of the ``n`` devices, the rows :func:`~.distributed.shard_of` gives
        the ranks of a Horovod job, so N devices and N ranks compute the same parts; a device left without an
        example (a batch smaller than the devices) computes the first as a stand-in weighted 0, so that every
        device has a gradient to sum."""
        if len(self.contexts) == 1:
            return [([_on_device(x, self.ctx) for x in batch], share)]
        size = int(batch[0].shape[0])
        source = batch[0].context if isinstance(batch[0], mx.nd.NDArray) else mx.cpu()
        parts = []
        for index, context in enumerate(self.contexts):
            rows = np.arange(index, size, len(self.contexts))
            examples = len(rows)
            rows = mx.nd.array(rows if examples else np.arange(1), ctx=source, dtype='int64')  # once per part
            parts.append(([_rows_on_device(x, rows, context) for x in batch], (examples, size)))
        return parts

    def _worker_losses(self, outputs, shares) -> List[Tuple[Any, Optional[float]]]:
        """Each part's loss for the gradient, so that the workers' (ranks' or devices') mean gradient is one
        process's on the whole global batch, and the part's share of the global batch's loss sum (for the logs).

        A task that says what each term of its loss is averaged over (``output[3]``: ``{term: (mean, count)}``, e.g.
        masked-LM over masked positions, next-sentence over sequences) gets every term divided by the global count:
        exact. Otherwise the loss is taken as a mean over sequences and weighted by the part's share of them."""
        size = self.workers
        if size == 1:
            return [(outputs[0][0], None)]
        terms = [output[3] if len(output) > 3 else None for output in outputs]
        if not all(terms):
            result = []
            for output, (examples, batch_examples) in zip(outputs, shares):
                weight = rank_weight(examples, batch_examples, size)
                result.append((output[0] * weight, float(output[0].asscalar()) * weight * batch_examples / size))
            return result
        names = list(terms[0])
        local = [sum(_as_float(part[name][1]) if examples else 0.0 for part, (examples, _) in zip(terms, shares))
                 for name in names]
        totals = self.ranks.sum(local, 'kobert_gluon.loss_counts')
        result = []
        for part, (examples, batch_examples) in zip(terms, shares):
            factors = [(_as_float(part[name][1]) if examples else 0.0) * size / total if total else 0.0
                       for name, total in zip(names, totals)]
            loss = sum(part[name][0] * factor for name, factor in zip(names, factors))
            result.append((loss, float(loss.asscalar()) * batch_examples / size))
        return result

    def _optimisation_step(self, lr: float, step: int) -> Optional[float]:
        """All-reduce, clip to ``max_grad_norm``, apply; returns the gradient norm before clipping."""
        self.optimizer.set_learning_rate(lr)
        self.optimizer.allreduce_grads()
        grad_norm = None
        # after the all-reduce the gradients are the workers' sum (ranks: the optimizer divides by their number when
        # it applies them; devices: update() below does), so the norm of the mean gradient is the sum's / workers
        workers = self.workers
        if self.loss_scaler is not None:  # every device's copy: each applies its own
            scale = self.loss_scaler.scale
            for param in self.params:
                for grad in param.list_grad():
                    grad[:] /= scale
        if self.config.max_grad_norm:
            grad_norm = nlp.utils.clip_grad_global_norm(self.params, self.config.max_grad_norm * workers,
                                                        check_isfinite=False)
            grad_norm = float(grad_norm.asscalar()) / workers
        elif self.loss_scaler is not None:  # the overflow check needs the norm even without clipping
            grad_norm = _global_norm(self.params) / workers
        if self.loss_scaler is not None:
            self.loss_scaler.update(math.isfinite(grad_norm))
            if not math.isfinite(grad_norm):  # float16 overflowed: skip this step; the scale was halved
                self._log('step {}: the gradients overflowed in float16; step skipped, loss scale now {:g}'
                          .format(step + 1, self.loss_scaler.scale))
                for param in self.params:
                    param.zero_grad()
                return None
        elif grad_norm is not None and not math.isfinite(grad_norm):
            raise FloatingPointError('the gradient norm is {} at step {}: training diverged (lower the '
                                     'learning rate)'.format(grad_norm, step + 1))
        # the loss was already averaged; several devices of one process: their sum is divided by their number
        self.optimizer.update(len(self.contexts))
        for param in self.params:
            param.zero_grad()
        return grad_norm

    def _end_of_epoch(self, epoch: int, progress, seconds: float, dev, history) -> Dict[str, Any]:
        train_loss = progress['epoch_loss_sum'] / max(1, progress['epoch_sequences'])
        record = {'epoch': epoch + 1, 'step': progress['step'], 'train_loss': train_loss,
                  'seconds': round(seconds, 3),
                  'sequences_per_second': round(progress['epoch_sequences'] / max(seconds, 1e-9), 3)}
        if self.config.eval_every:
            pass  # evaluated on the step grid instead (_evaluate_at_step)
        elif dev is not None:
            dev_metrics = self.ranks.mean_metrics(self.task.evaluate(self.model, dev), 'kobert_gluon.dev')
            record['dev'] = dev_metrics
            metric = getattr(self.task, 'metric', None)
            value = dev_metrics.get(metric) if metric else None
            if self._is_better(value, history['best']):
                history['best'] = {'epoch': epoch + 1, 'step': progress['step'], 'metric': metric, 'value': value}
                self._save_best()
        else:  # nothing to compare on: the latest epoch is the one kept
            history['best'] = {'epoch': epoch + 1, 'step': progress['step'], 'metric': None, 'value': None}
            self._save_best()
        self._log('epoch {}/{}: train loss {:.4f}{} ({:.0f} s, {:.1f} seq/s)'.format(
            epoch + 1, self._num_epochs, train_loss,
            ''.join(', dev {} {:.4f}'.format(k, v) for k, v in record.get('dev', {}).items()
                    if not k.startswith('f1_')),
            seconds, record['sequences_per_second']))
        return record

    def _save_best(self) -> None:
        if self.is_writer and self.out_dir is not None and hasattr(self.task, 'save_best'):
            self.task.save_best(self.model, self.out_dir / BEST_FOLDER)

    def _progress_bar(self, epoch: int, num_batches: int, start: int, steps_left: int):
        """The epoch's bar (rank 0's, with ``config.progress``): its total is the batches this epoch will run, so
        a run that ``max_steps`` ends early is timed by the steps it has left, not by the epoch's length."""
        if not (self.config.progress and self.is_writer):
            return None
        batches = min(num_batches, start + steps_left * self.config.accumulate)
        return progress_steps(total=batches, initial=start, desc='epoch {}/{}'.format(epoch + 1, self._num_epochs),
                              unit='batches', show=True)


def _as_float(value) -> float:
    return float(value.asscalar()) if hasattr(value, 'asscalar') else float(value)


class _WrittenGradientSums:
    """The gradients of a step summed over its micro-batches, for parameters whose gradients are written by each
    ``backward`` (``grad_req='write'``, see ``Trainer.__init__``): after each micro-batch :meth:`add` keeps the sum,
    and after the last it puts the sum where the optimizer reads the gradients. A step of one micro-batch costs
    nothing."""

    def __init__(self, params):
        self.params = params
        self.sums = None

    def add(self, last: bool) -> None:
        grads = [grad for param in self.params for grad in param.list_grad()]
        if self.sums is None:
            if not last:
                self.sums = [grad.copy() for grad in grads]
            return
        for total, grad in zip(self.sums, grads):
            total += grad
        if last:
            for total, grad in zip(self.sums, grads):
                total.copyto(grad)
            self.sums = None


def _amp_on() -> bool:
    return bool(amp.amp._amp_initialized)


def _on_device(array, context):
    if isinstance(array, mx.nd.NDArray):
        return array.as_in_context(context)
    return mx.nd.array(array, ctx=context, dtype=np.asarray(array).dtype)


def _rows_on_device(array, rows, context):
    """The ``rows`` (an int64 NDArray of example indices) of one batch array, on ``context``."""
    if isinstance(array, mx.nd.NDArray):
        return mx.nd.take(array, rows.as_in_context(array.context), axis=0).as_in_context(context)
    return _on_device(np.asarray(array)[rows.asnumpy()], context)


def _global_norm(params) -> float:
    """The norm of all gradients (the first device's copy: after the all-reduce every device holds the sum), read
    back once."""
    grads = [p.list_grad()[0] for p in params]
    squares = [(g.reshape((-1,)) ** 2).sum() for g in grads]
    return math.sqrt(float(mx.nd.add_n(*squares).asscalar()))


def _save_optimizer_states(optimizer, path: Path) -> None:
    """What the gluon Trainer's ``save_states`` writes (the first device's updater, in its format), with every
    state on the CPU, so a checkpoint loads on any device (MXNet moves each state to its weight's device on first
    use)."""
    if getattr(optimizer, '_update_on_kvstore', False):  # the kvstore holds them: its own writer
        optimizer.save_states(str(path))
        return
    import pickle
    if not optimizer._kv_initialized:
        optimizer._init_kvstore()
    if optimizer._params_to_init:
        optimizer._init_params()
    states = {index: _state_on_cpu(value) for index, value in optimizer._updaters[0].states.items()}
    atomic_write_bytes(path, pickle.dumps(states))


def _state_on_cpu(value):
    if isinstance(value, mx.nd.NDArray):
        return value.as_in_context(mx.cpu())
    if isinstance(value, (tuple, list)):
        return type(value)(_state_on_cpu(v) for v in value)
    return value


class _StepWindow:
    """Sums over a run of micro-batches: loss weighted by sequences, and the task's (numerator, denominator)s."""

    def __init__(self):
        self.loss_sum, self.sequences = 0.0, 0
        self.metrics: Dict[str, List[float]] = {}
        self.started = time.time()

    def add(self, mean_loss: float, sequences: int, metrics=None, weight: float = 1.0,
            loss_sum: Optional[float] = None) -> None:
        """``weight`` 0: a stand-in batch of a rank with no example in this step (counted as nothing);
        ``loss_sum``: this rank's part of the loss sum when it is not ``mean_loss * sequences`` (data-parallel)."""
        self.loss_sum += mean_loss * sequences if loss_sum is None else loss_sum
        self.sequences += sequences
        for name, (numerator, denominator) in (metrics or {}).items():
            sums = self.metrics.setdefault(name, [0.0, 0.0])
            sums[0] += _as_float(numerator) * weight
            sums[1] += _as_float(denominator) * weight

    def sum_over(self, ranks) -> None:
        """Replace this rank's sums with all ranks' (the same names on every rank: the task's metrics)."""
        names = sorted(self.metrics)
        values = [self.loss_sum, float(self.sequences)] + [v for name in names for v in self.metrics[name]]
        totals = ranks.sum(values, 'kobert_gluon.step_sums')
        self.loss_sum, self.sequences = totals[0], int(round(totals[1]))
        for i, name in enumerate(names):
            self.metrics[name] = [totals[2 + 2 * i], totals[3 + 2 * i]]

    def merge(self, other: '_StepWindow') -> None:
        self.loss_sum += other.loss_sum
        self.sequences += other.sequences
        for name, (numerator, denominator) in other.metrics.items():
            sums = self.metrics.setdefault(name, [0.0, 0.0])
            sums[0] += numerator
            sums[1] += denominator

    def mean_loss(self) -> float:
        return self.loss_sum / max(1, self.sequences)

    def metric_values(self) -> Dict[str, Optional[float]]:
        return {name: (numerator / denominator if denominator else None)
                for name, (numerator, denominator) in self.metrics.items()}

    def sequences_per_second(self) -> float:
        return self.sequences / max(time.time() - self.started, 1e-9)
