"""The trainer's settings as plain data (no MXNet: the command line builds its options from these declarations and
shows their defaults without loading MXNet; :mod:`.trainer` runs them)."""
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional

from ..core import checks
from ..core.errors import InputError
from ..core.settings_fields import setting

__all__ = ['TrainingConfig', 'RESULT_NEUTRAL_SETTINGS', 'SCHEDULES', 'COUPLED_DECAY_OPTIMIZERS']

SCHEDULES = ('linear', 'cosine', 'constant')
# TrainingConfig fields that do not change the result: they may differ between a run and its resumption.
RESULT_NEUTRAL_SETTINGS = ('progress', 'checkpoint_every', 'log_every')

# MXNet optimizers that fold weight decay into the gradient they then normalise per weight (L2, not decoupled
# decay). With a clipped gradient far smaller than decay x weight, each weight then moves towards 0 by about the
# learning rate at every step: measured with `adam` on ELECTRA pretraining (gradient norms 9-40 clipped to 1,
# weight decay 0.01), the attention query and key weights' norms fell from 3.8 to about 1e-6 within 1,000 steps.
COUPLED_DECAY_OPTIMIZERS = ('adam', 'nadam', 'adamax', 'adagrad', 'adadelta', 'rmsprop', 'ftml')


@dataclass
class TrainingConfig:
    """Optimisation settings (plain data: saved in checkpoints and run folders).

    ``learning_rate`` is the peak rate, reached after ``warmup_ratio`` of all steps (or ``warmup_steps`` steps, when
    set) and then decayed to zero
    (``schedule``: ``'linear'``, ``'cosine'`` or ``'constant'``). ``max_grad_norm`` clips the global gradient
    norm (0 = off). ``accumulate`` micro-batches make one optimisation step. ``checkpoint_every`` writes a
    resumable checkpoint every that many steps (0 = only at epoch ends). ``max_steps`` (0 = no limit) ends
    training after that many steps; with ``epochs=0`` it alone sets the length. ``eval_every`` evaluates (and
    checkpoints) every that many steps instead of at epoch ends. ``log_every`` logs a line with the mean loss and
    task metrics of the last that many steps (0 = off; useful without a progress bar).
    """
    epochs: int = setting(3, help='passes over the data (default {default}); with --max-steps too, training stops '
                                  'at whichever limit comes first', shown={0: 'as many as --max-steps needs'})
    learning_rate: float = setting(5e-5, option='lr', help='peak learning rate (default {default})')
    warmup_ratio: float = setting(0.1, exclusive='warmup', help='share of steps with linear warmup (default {default})')
    warmup_steps: Optional[int] = setting(None, exclusive='warmup', help='steps of linear warmup (instead of --warmup-ratio; '
                                          'BERT\'s run_pretraining.py --num_warmup_steps)')
    schedule: str = setting('linear', choices=SCHEDULES, help='decay after warmup (default {default})')
    weight_decay: float = setting(0.01, help='default {default} (never on biases and LayerNorm)')
    max_grad_norm: float = setting(1.0, help='global gradient-norm clipping, 0 = off (default {default})')
    accumulate: int = setting(1, help='micro-batches per optimisation step (default {default})')
    seed: int = setting(0, help='seed for initial weights, data order and dropout (default {default})')
    optimizer: str = setting('bertadam', shown={'bertadam': 'bertadam, i.e. AdamW'},
                             help='MXNet optimizer name (default {default}); adam and the others that add weight decay '
                                  'to the gradient need --weight-decay 0')
    optimizer_params: Dict[str, Any] = field(default_factory=lambda: {'epsilon': 1e-6})
    checkpoint_every: int = setting(0, shown={0: 'epoch ends only'},
                                    help='also write a resumable checkpoint every N steps (default: {default})')
    kvstore: str = 'device'
    progress: bool = setting(True, negated=True, help='no progress bar (it is drawn on a terminal; elsewhere a line at the '
                             'start, every $KOBERT_GLUON_PROGRESS_SECONDS seconds (default 30) and at the end of each '
                             'epoch)')
    max_steps: int = setting(0, shown={0: 'no limit'},
                             help='stop after N optimisation steps; the schedule spans them (default {default})')
    eval_every: int = setting(0, shown={0: 'epoch ends'}, help='evaluate on dev (and keep the best model) every N steps '
                              'and after the last, instead of at epoch ends (default: {default})')
    log_every: int = setting(0, shown={0: 'off'},
                             help='log the mean loss and metrics of every N steps (default: {default})')

    def __post_init__(self):
        # the value rules every settings class and the command line share (core.checks: one rule, one wording)
        for name in ('epochs', 'max_steps', 'eval_every', 'log_every', 'checkpoint_every'):
            checks.whole(name, getattr(self, name), 0)
        checks.whole('accumulate', self.accumulate, 1)
        checks.whole('warmup_steps', self.warmup_steps, 0, optional=True)
        checks.seed('seed', self.seed)
        if self.epochs == 0 and not self.max_steps:
            raise checks.RuleError('{epochs} must be at least 1 (or 0 with {max_steps} set), got 0',
                                   {'epochs': 'epochs', 'max_steps': 'max_steps'})
        checks.number('learning_rate', self.learning_rate, 0.0, above=True)
        checks.number('warmup_ratio', self.warmup_ratio, 0.0, below=1.0)
        checks.number('weight_decay', self.weight_decay, 0.0)
        checks.number('max_grad_norm', self.max_grad_norm, 0.0)
        if self.schedule not in SCHEDULES:
            raise checks.broken('schedule', 'must be {} or {!r}'.format(', '.join(map(repr, SCHEDULES[:-1])),
                                                                          SCHEDULES[-1]), self.schedule)
        if not isinstance(self.optimizer, str):
            raise checks.broken('optimizer', 'must be the name of an MXNet optimizer', self.optimizer)
        # MXNet's registry, bertadam included (gluonnlp, which the stack imports, registers it): loaded here, when a
        # settings object is made, so that the command line can read the declarations without it
        from ..core.mxnet_stack import mx
        if self.optimizer.lower() not in mx.optimizer.Optimizer.opt_registry:
            raise InputError('unknown optimizer {!r}; MXNet has {}'.format(self.optimizer, ', '.join(
                sorted(name for name in mx.optimizer.Optimizer.opt_registry if name != 'test'))))
        if self.weight_decay > 0 and self.optimizer.lower() in COUPLED_DECAY_OPTIMIZERS:
            raise InputError(
                'optimizer {} adds weight decay to the gradient before scaling it per weight, so after clipping it '
                'can pull every weight towards 0 by about the learning rate per step (an ELECTRA run lost its '
                'attention weights this way): use bertadam (Adam with decoupled decay, the default) or set weight '
                'decay to 0 (--weight-decay 0)'.format(self.optimizer))

    def to_dict(self):
        return asdict(self)
