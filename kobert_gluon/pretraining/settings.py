"""Pretraining's and distillation's settings as plain data (no MXNet: the command line builds the ``pretrain`` and
``distill`` options from these declarations; :mod:`.pretrain` and :mod:`.distill` run them). What checks a value
against a registry (the objective, the model's shape options) is imported when a settings object is made."""
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from ..core import checks
from ..core.errors import InputError
from ..core.settings_fields import setting
from ..training.settings import TrainingConfig

__all__ = ['PretrainSettings', 'DistillSettings', 'pretraining_training_config', 'PRETRAINING_SCHEDULE',
           'check_shard_run_options',
           'PARAM_DTYPES', 'STUDENT_ARCHITECTURES', 'OBJECTIVE_NAMES']

PARAM_DTYPES = ('float32', 'float16')
# pretrain.OBJECTIVES' names, written out: that registry holds builders that import MXNet (and imports this
# module), and --help must not; tests/test_cli_help.py checks that they agree
OBJECTIVE_NAMES = ('bert', 'electra')
STUDENT_ARCHITECTURES = ('bert', 'distilbert')

# The data, dev, batching and saving options both runs on pretraining shards take: declared once, made per class.
_SHARD_RUN_SETTINGS = {
    'dev_data': dict(default=None, group='data', help='a separate pretraining data folder to evaluate on (instead of '
                                                        '--dev-chunks)'),
    'dev_chunks': dict(default=1, group='data', help='hold out the last N chunks of --data for dev: whole chunks, so '
                                                      'no document is both trained and evaluated on (default '
                                                      '{default}; 0 = no dev)'),
    'max_dev_instances': dict(default=5000, group='data',
                              help='evaluate on at most N dev instances (default {default})'),
    'batch_size': dict(default=64, group='training', help='sequences per micro-batch (default {default})'),
    'eval_batch_size': dict(default=128, group='training', help='default {default}'),
    'bucket_window': dict(default=50, group='training', help='batches per length-sorting window (default '
                                                              '{default}): larger pads less, mixes less'),
    'param_dtype': dict(default='float32', group='model', choices=PARAM_DTYPES,
                        help='parameter type of the saved model folder (default {default})'),
}


def _shard_run(name: str):
    """A fresh field of the shard-run option ``name`` (a dataclass field belongs to one class)."""
    return setting(**_SHARD_RUN_SETTINGS[name])


# Where pretraining's schedule differs from TrainingConfig's defaults (the command line shows these without making
# a TrainingConfig, whose check of the optimizer imports MXNet)
PRETRAINING_SCHEDULE = dict(epochs=0, max_steps=10000, learning_rate=1e-4, warmup_ratio=0.01, eval_every=1000,
                            checkpoint_every=1000, log_every=100)


def pretraining_training_config(**changes) -> TrainingConfig:
    """Pretraining's defaults: step-based (``max_steps``, ``epochs=0``), BERT's peak rate 1e-4, 1 % warmup,
    evaluation and checkpoint every 1,000 steps, a log line every 100."""
    return TrainingConfig(**{**PRETRAINING_SCHEDULE, **changes})


def check_shard_run_options(settings) -> None:
    """The data, dev and saving options a run on pretraining shards has (pretrain, distill): checked once here."""
    if isinstance(settings.training, dict):
        settings.training = checks.in_section('training', lambda: TrainingConfig(**settings.training))
    settings.data = checks.path('data', settings.data)
    if settings.dev_data is not None:
        settings.dev_data = checks.path('dev_data', settings.dev_data)
    for name in ('batch_size', 'eval_batch_size', 'bucket_window', 'max_dev_instances'):
        checks.whole(name, getattr(settings, name), 1)
    checks.whole('dev_chunks', settings.dev_chunks, 0)
    checks.rate('dropout', settings.dropout, optional=True)
    if settings.param_dtype not in PARAM_DTYPES:
        raise checks.broken('param_dtype', "must be 'float32' or 'float16'", settings.param_dtype)


@dataclass
class PretrainSettings:
    """Everything that defines a pretraining run (saved as ``run.json``; plain data).

    ``data``: a folder from ``create_pretraining_data``. ``model``: a registered name (its pretrained weights,
    or with ``from_scratch`` its architecture with random weights and ``model_overrides`` such as
    ``num_layers=4, units=192, hidden_size=768, num_heads=3, max_length=128``) or a saved model folder with
    decoder and classifier heads (continue pretraining). ``vocab``: a ``build_vocab`` folder, for from-scratch
    models only (default: the model's own vocabulary). Dev: the last ``dev_chunks`` chunks of ``data`` (whole
    chunks: no document is in both), or all of ``dev_data``; at most ``max_dev_instances`` are evaluated.
    ``param_dtype`` is the saved model's parameter type (``'float16'`` halves the folder). ``objective``:
    ``'bert'`` (MLM + NSP) or ``'electra'`` (a generator of ``generator_size`` times the discriminator's width,
    loss MLM + ``rtd_weight`` * replaced-token detection; see :mod:`.electra`; from scratch only).
    """
    data: str = setting(group='data', help='pretraining data folder (create-pretraining-data --out)')
    model: str = setting('kobert-base', group='model',
                         help='registered model (its pretrained weights) or saved model folder with MLM and NSP heads '
                              '(continue pretraining); with --from-scratch, the architecture (default {default})')
    from_scratch: bool = setting(False, group='model',
                                 help='random initial weights; the size options and --vocab apply')
    vocab: Optional[str] = setting(None, group='model', metavar='PATH',
                                   help='vocabulary of a from-scratch model: a build-vocab folder (SentencePiece or '
                                        'WordPiece), a WordPiece vocab.txt or a SentencePiece .model (BERT\'s '
                                        'vocab_file; default: the model\'s own)')
    model_overrides: Dict[str, Any] = field(default_factory=dict)
    dropout: Optional[float] = setting(None, group='model', help='dropout of the encoder (default: the model\'s)')
    dev_data: Optional[str] = _shard_run('dev_data')
    dev_chunks: int = _shard_run('dev_chunks')
    max_dev_instances: int = _shard_run('max_dev_instances')
    batch_size: int = _shard_run('batch_size')
    eval_batch_size: int = _shard_run('eval_batch_size')
    bucket_window: int = _shard_run('bucket_window')
    param_dtype: str = _shard_run('param_dtype')
    objective: str = setting('bert', group='objective', choices=OBJECTIVE_NAMES,
                             help='bert: masked LM + next sentence; electra: a generator fills the masked positions '
                                  'and the model learns to tell replaced tokens (needs --from-scratch and an electra '
                                  'model) (default {default})')
    generator_size: float = setting(0.25, group='objective', metavar='FRACTION',
                                    help='electra: the generator\'s heads (so width and FFN) as a fraction of the '
                                         'discriminator\'s (default {default})')
    rtd_weight: float = setting(50.0, group='objective',
                                help='electra: loss = generator MLM + W * replaced-token detection (default {default})')
    training: TrainingConfig = field(default_factory=pretraining_training_config)

    def __post_init__(self):
        from ..models.zoo import check_from_scratch_options
        check_shard_run_options(self)
        if self.objective not in OBJECTIVE_NAMES:
            raise InputError('objective must be one of {}, got {!r}'.format(', '.join(OBJECTIVE_NAMES), self.objective))
        checks.number('generator_size', self.generator_size, 0.0, above=True, maximum=1.0)
        checks.number('rtd_weight', self.rtd_weight, 0.0, above=True)
        check_from_scratch_options(self.model_overrides, self.from_scratch, self.vocab)

    def input_paths(self) -> List[str]:
        """Everything the run reads (the run folder may hold none of them)."""
        return [self.model, self.vocab, self.data, self.dev_data]

    def to_dict(self) -> Dict[str, Any]:
        values = asdict(self)
        values['training'] = self.training.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> 'PretrainSettings':
        return cls(**values)


@dataclass
class DistillSettings:
    """Everything that defines a distillation run (saved as ``run.json``; plain data).

    ``teacher``: a model folder or registered model whose masked-LM head can be loaded. ``student_layers``: the
    student's depth (a divisor-friendly fraction of the teacher's). ``student_architecture``: ``bert`` or
    ``distilbert`` (default: the teacher's). ``temperature`` and the ``alpha_*`` weights as in DistilBERT (DistilKoBERT
    used T = 2 and 0.33 each). Data, dev and batching as in :class:`~.pretrain.PretrainSettings`.
    """
    data: str = setting(group='data', help='pretraining data folder (create-pretraining-data --out)')
    teacher: str = setting(group='teacher and student', help='model folder or registered model with its masked-LM '
                                                             'head (a pretrain run\'s best/, kobert-base)')
    student_layers: int = setting(group='teacher and student', metavar='N', help='layers of the student')
    student_architecture: Optional[str] = setting(None, group='teacher and student', choices=STUDENT_ARCHITECTURES,
                                                  help='the student\'s architecture (default: the teacher\'s)')
    temperature: float = setting(2.0, group='teacher and student', help='softmax temperature T (default {default})')
    alpha_ce: float = setting(0.33, group='teacher and student', help='weight of the KL term (default {default})')
    alpha_mlm: float = setting(0.33, group='teacher and student',
                               help='weight of the masked-LM term (default {default})')
    alpha_cos: float = setting(0.33, group='teacher and student', help='weight of the cosine term (default {default})')
    dropout: Optional[float] = setting(None, group='teacher and student',
                                       help='dropout of the student (default: the teacher\'s)')
    dev_data: Optional[str] = _shard_run('dev_data')
    dev_chunks: int = _shard_run('dev_chunks')
    max_dev_instances: int = _shard_run('max_dev_instances')
    batch_size: int = _shard_run('batch_size')
    eval_batch_size: int = _shard_run('eval_batch_size')
    bucket_window: int = _shard_run('bucket_window')
    param_dtype: str = _shard_run('param_dtype')
    training: TrainingConfig = field(default_factory=pretraining_training_config)

    def __post_init__(self):
        check_shard_run_options(self)
        self.teacher = checks.path('teacher', self.teacher)
        checks.whole('student_layers', self.student_layers, 1)
        if self.student_architecture is not None and self.student_architecture not in STUDENT_ARCHITECTURES:
            raise checks.broken('student_architecture', "must be 'bert' or 'distilbert'", self.student_architecture)
        checks.number('temperature', self.temperature, 0.0, above=True)
        for name in ('alpha_ce', 'alpha_mlm', 'alpha_cos'):
            checks.number(name, getattr(self, name), 0.0)
        if not any((self.alpha_ce, self.alpha_mlm, self.alpha_cos)):
            raise checks.RuleError('{alpha_ce}, {alpha_mlm} and {alpha_cos} are all 0: nothing would be learnt',
                                   {name: name for name in ('alpha_ce', 'alpha_mlm', 'alpha_cos')})

    def input_paths(self) -> List[str]:
        """Everything the run reads (the run folder may hold none of them)."""
        return [self.teacher, self.data, self.dev_data]

    def to_dict(self) -> Dict[str, Any]:
        values = asdict(self)
        values['training'] = self.training.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> 'DistillSettings':
        return cls(**values)
