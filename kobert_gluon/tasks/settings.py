"""Fine-tuning's settings as plain data (no MXNet: the command line builds the ``finetune`` options from these
declarations; :mod:`.finetuning` runs them). What checks a value against a registry (the task, the model's
shape options) is imported when a settings object is made."""
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from ..core import checks
from ..core.errors import InputError
from ..core.settings_fields import setting
from ..training.settings import TrainingConfig

if TYPE_CHECKING:
    from .datasets import TaskSpec

__all__ = ['FinetuneSettings']


@dataclass
class FinetuneSettings:
    """Everything that defines a fine-tuning run (saved as ``run.json``; plain data).

    ``task``: a ready-made task name or a :class:`TaskSpec`. ``model``: a registered name or a model folder;
    ``from_scratch`` builds it with random weights, with ``model_overrides`` such as ``num_layers=4,
    units=256, hidden_size=1024, num_heads=4`` (``embed_size`` follows ``units``). ``dropout`` (if set)
    applies to the encoder and the head. ``max_train_rows``/``max_dev_rows`` read only the first rows.
    Without a ``dev`` file, ``dev_fraction`` (default: the task's) of the training rows is held out as dev (both
    at once is refused; so is a dev file that is the training file or holds only its rows, see
    :mod:`~kobert_gluon.training.held_out`). A class label found in fewer than ``min_label_count`` training rows
    (or entities) is refused as a stray value unless the task lists its labels (0 or 1 accepts every label).
    ``encoding`` is the text encoding of the train and dev files (UTF-8, byte-order mark accepted).
    ``classifier_dropout`` (if set) is the head's own rate, the encoder keeping ``dropout`` (KoBERT's NSMC notebook:
    ``BERTClassifier(bertmodel, dr_rate=0.5)`` over an encoder at 0.1).
    """
    task: Union[str, 'TaskSpec']
    train: str = setting(group='task and data', help='training file (FILE#train, FILE#dev, FILE#test: that 80/10/10 '
                                                        'hash part of a tagged-text or SQuAD file)')
    dev: Optional[str] = setting(None, group='task and data',
                                 help='dev file (evaluated after every epoch; the best epoch is kept)')
    model: str = setting('kobert-base', group='model',
                         help='registered model or model folder to start from (default {default})')
    from_scratch: bool = setting(False, group='model',
                                 help='random initial weights instead of pretrained ones (size options apply)')
    model_overrides: Dict[str, Any] = field(default_factory=dict)
    dropout: Optional[float] = setting(None, group='model',
                                       help='dropout of the encoder and the head (default: the model\'s)')
    classifier_dropout: Optional[float] = setting(None, group='model', metavar='RATE',
                                                  help='dropout of the head alone (the NSMC notebook\'s dr_rate; '
                                                       'default: --dropout, else 0.1)')
    max_seq_length: int = setting(128, group='model',
                                  help='tokens per example incl. [CLS]/[SEP] (default {default})')
    batch_size: int = setting(32, group='training', help='sequences per micro-batch (default {default})')
    eval_batch_size: int = setting(64, group='training', help='default {default}')
    max_train_rows: Optional[int] = setting(None, group='task and data',
                                            help='read only the first N training examples')
    max_dev_rows: Optional[int] = setting(None, group='task and data', help='read only the first N dev examples')
    dev_fraction: Optional[float] = setting(None, group='task and data',
                                            help='instead of --dev, hold out this share of the training rows as dev '
                                                 '(default: the task\'s, e.g. 0.05 for nsmc, whose only other file '
                                                 'is its test set)')
    skip_bad_rows: bool = setting(False, group='task and data', help='skip malformed rows (and report how many) '
                                                                    'instead of stopping at the first')
    min_label_count: int = setting(5, group='task and data', metavar='N',
                                   help='refuse a class label seen in fewer than N training rows (entities for '
                                        'taggers) as a stray value, unless --labels lists it; 0 or 1 accepts every '
                                        'label (default {default})')
    encoding: str = setting('utf-8', group='task and data',
                            help='text encoding of the file(s) (default {default}, byte-order mark accepted), e.g. '
                                 'cp949; a byte that does not decode is an error')
    num_workers: int = setting(0, group='training', help='DataLoader worker processes (default {default})')
    bucket_window: int = 50
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def __post_init__(self):
        from ..models.zoo import check_from_scratch_options
        from .datasets import TaskSpec, get_task
        if isinstance(self.task, str):
            self.task = get_task(self.task)
        elif isinstance(self.task, dict):
            self.task = TaskSpec.from_dict(self.task)
        if isinstance(self.training, dict):
            self.training = checks.in_section('training', lambda: TrainingConfig(**self.training))
        check_from_scratch_options(self.model_overrides, self.from_scratch)
        if self.task.table is not None and self.task.table.label_column is None:
            raise InputError('task {!r} names no label column: there is nothing to learn'.format(self.task.name))
        self.train = checks.path('train', self.train)
        if self.dev is not None:
            self.dev = checks.path('dev', self.dev)
        checks.max_seq_length('max_seq_length', self.max_seq_length)
        for name in ('batch_size', 'eval_batch_size', 'bucket_window'):
            checks.whole(name, getattr(self, name), 1)
        for name in ('max_train_rows', 'max_dev_rows'):
            checks.whole(name, getattr(self, name), 1, optional=True)
        checks.whole('num_workers', self.num_workers, 0)
        checks.whole('min_label_count', self.min_label_count, 0)
        checks.number('dev_fraction', self.dev_fraction, 0.0, above=True, below=1.0, optional=True)
        if self.dev_fraction is not None and self.dev is not None:
            # a dev file wins, so the fraction would be ignored without a word
            raise checks.RuleError('{dev_fraction} holds out a share of the training data as dev, and {dev} names '
                                   'a dev file: give one or the other', {'dev_fraction': 'dev_fraction', 'dev': 'dev'})
        for name in ('dropout', 'classifier_dropout'):
            checks.rate(name, getattr(self, name), optional=True)

    def input_paths(self) -> List[str]:
        """Everything the run reads (the run folder may hold none of them)."""
        return [self.model, self.train, self.dev]

    def to_dict(self) -> Dict[str, Any]:
        values = asdict(self)
        values['task'] = self.task.to_dict()
        values['training'] = self.training.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> 'FinetuneSettings':
        return cls(**values)
