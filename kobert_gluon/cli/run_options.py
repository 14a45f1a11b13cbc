"""Options every training command shares (the trainer's settings, the run folder) and how they become settings.

A command keeps a map ``option -> dotted place in its settings document`` (``'lr': 'training.learning_rate'``).
A new run starts from the command's default document; ``--resume`` starts from the run's ``run.json``, so only
the options given on the command line change anything, and a resumed run that changes a result-relevant
setting is refused by the run-folder rules.
"""
import contextlib
import sys
from typing import Any, Dict, Optional

from . import UsageError
from .parser_data import PRECISIONS, RUNTIMES  # deploy.runtime's names, without its numpy
from ..core import checks
from ..core.settings_fields import declared_options
from ..training.settings import TrainingConfig


# The model-shape options both training commands take: settings field -> help. They change the weights' shapes,
# so they need --from-scratch (the rule itself: models.zoo.check_from_scratch_options, applied by the settings).
SHAPE_OPTIONS = {
    'num_layers': 'transformer layers',
    'units': 'hidden units (BERT: the embedding size follows)',
    'embed_size': 'embedding units (ELECTRA: projected to --units when they differ)',
    'hidden_size': 'feed-forward units',
    'num_heads': 'attention heads',
    'max_length': 'position embeddings: the longest sequence the model can take',
}


def add_max_seq_length_arg(parser, model_dest: Optional[str], default=None, help=None) -> None:
    """``--max-seq-length`` for a command whose model (or tokenizer source) is ``args.<model_dest>``. Every command
    that takes the option adds it here, so :func:`check_max_seq_length_arg` (run by ``cli.main`` after parsing)
    checks it for all of them against the model's position table. ``default`` (None: the settings' own) applies
    when the option is not given, cut to the model's positions. ``model_dest`` None: the command's settings check
    the value against the model the job resolves (finetune), so the command line does not read the model first."""
    parser.add_argument('--max-seq-length', type=int,
                        help=help or 'tokens per sequence incl. [CLS]/[SEP] (default {}, or the model\'s positions '
                                     'if fewer)'.format(default))
    parser.set_defaults(max_seq_length_model=model_dest, max_seq_length_default=default)


def check_max_seq_length_arg(args) -> None:
    """The one check of ``--max-seq-length``: room for ``[CLS]`` and ``[SEP]``, and no longer than the position
    table of the model the command uses (a vocabulary folder has none; a from-scratch ``--max-length`` counts).
    Not given, it becomes the command's default cut to the model's positions."""
    dest = getattr(args, 'max_seq_length_model', None)
    if dest is None:
        return
    length = args.max_seq_length
    if length is None:
        default = getattr(args, 'max_seq_length_default', None)
        if default is None:
            return  # the settings' default (fine-tuning checks it with the model it resolves)
        positions = _positions(getattr(args, dest, None), args)
        args.max_seq_length = default if positions is None else min(default, positions)
        return
    checks.max_seq_length('--max-seq-length', length)  # the rule the settings and the tokenizers apply
    source = getattr(args, dest, None)
    positions = _positions(source, args)  # the model is read once
    if positions is not None:
        from ..models.zoo import check_length_fits
        check_length_fits(length, positions, source)


def _positions(source, args):
    """The position-table size of the model ``source`` names, or None (no model given: the settings' default, a
    resumed run's; a tokenizer file or a vocabulary folder has no positions)."""
    if source is None:
        return None
    from pathlib import Path
    from ..hub.catalogue import lookup
    entry = lookup(source)
    if isinstance(entry, Path) and (entry.is_file() or not (entry / 'config.json').is_file()):
        return None
    if getattr(args, 'max_length', None):  # a from-scratch model's own --max-length
        return args.max_length
    from ..models.zoo import model_config
    return model_config(source).max_length


def add_model_shape_args(group) -> Dict[str, str]:
    """Add the shape options to ``group``; returns their ``option -> settings path`` map."""
    for name, text in SHAPE_OPTIONS.items():
        group.add_argument('--' + name.replace('_', '-'), type=int,
                           help='{} (only with --from-scratch; default: the model\'s)'.format(text))
    return {name: 'model_overrides.' + name for name in SHAPE_OPTIONS}


def add_settings_options(parser, settings_class, defaults=None, section: str = '', group: Optional[str] = None,
                         groups: Optional[Dict[str, Any]] = None) -> Dict[str, str]:
    """Add the options ``settings_class`` declares (:func:`~kobert_gluon.core.settings_fields.setting`) to
    ``parser``, each under its heading (``group`` where it names none; a heading is made once and kept in
    ``groups``, where the command may add options of its own), the help showing ``defaults``' values. Returns their
    ``option -> place in the settings document`` map (``section.field`` for a nested section such as
    ``training``), which :func:`settings_document` writes and :func:`options_named` respells."""
    groups = {} if groups is None else groups
    exclusive, paths = {}, {}
    for option in declared_options(settings_class, defaults):
        heading = option.group or group
        if heading not in groups:
            groups[heading] = parser.add_argument_group(heading)
        target = groups[heading]
        if option.exclusive is not None:
            if option.exclusive not in exclusive:
                exclusive[option.exclusive] = target.add_mutually_exclusive_group()
            target = exclusive[option.exclusive]
        target.add_argument(option.flag, dest=option.dest, **option.arguments)
        paths[option.dest] = '{}.{}'.format(section, option.field) if section else option.field
    return paths


def add_training_args(parser, defaults: Optional[Dict[str, Any]] = None,
                      groups: Optional[Dict[str, Any]] = None) -> Dict[str, str]:
    """The trainer's options (:class:`~kobert_gluon.training.settings.TrainingConfig`'s declarations, the help
    showing its defaults, or where ``defaults`` differs, those: pretraining's schedule) under 'training', and the
    device options. Returns their ``option -> settings path`` map; the heading is ``groups['training']``."""
    groups = {} if groups is None else groups
    paths = add_settings_options(parser, TrainingConfig, defaults, section='training', group='training',
                                 groups=groups)
    add_device_args(parser, splits_batches=True)
    return paths


def add_progress_arg(parser) -> None:
    """``--no-progress`` for a command whose work can take long (evaluate, predict, build-vocab, conversions ...):
    its library code reports progress (:mod:`kobert_gluon.core.progress`), which ``cli.main`` turns on unless this
    option or ``--quiet`` is given. (The training commands' bar is the trainer's: :func:`add_training_args`.)"""
    parser.add_argument('--no-progress', dest='progress', action='store_false', default=None,
                        help='show no progress on stderr (a bar on a terminal; elsewhere a line when the work starts, '
                             'every $KOBERT_GLUON_PROGRESS_SECONDS seconds (default 30) and when it ends)')
    parser.set_defaults(reports_progress=True)


DEVICE_HELP = ('where to compute: cpu (default), gpu (the first GPU; under horovodrun each rank\'s own), gpu:0,1 '
               '(those GPUs{}), cpu:0,1 (several CPU contexts: the multi-device path, no faster)')


def add_device_args(parser, splits_batches: bool) -> None:
    """``--device`` (and GluonNLP's ``--gpus``) for a command that computes with the model; a training command
    (``splits_batches``) also takes ``--dtype``. Checked once for every such command by :func:`check_device_args`
    (run by ``cli.main`` after parsing), before any model is read."""
    group = parser.add_argument_group('device')
    where = group.add_mutually_exclusive_group()
    where.add_argument('--device', help=DEVICE_HELP.format(
        ': every batch is split across them' if splits_batches else '; the first computes'))
    where.add_argument('--gpus', metavar='0,1', help='GluonNLP\'s spelling of --device gpu:0,1 (empty: the CPU)')
    if splits_batches:
        group.add_argument('--dtype', choices=('float32', 'float16', 'bfloat16'), default='float32',
                           help='mixed precision through MXNet AMP with float32 master weights: float16 on GPUs (with '
                                'dynamic loss scaling), bfloat16 on CPUs with AVX512-BF16 or AMX (default %(default)s)')
    parser.set_defaults(takes_device=True)


def check_device_args(args) -> None:
    """The one reading of ``--device`` / ``--gpus`` / ``--dtype``: known devices that this MXNet has (a GPU asked of a
    CPU-only build or a machine without one is one line), a precision they can compute in. Replaces ``args.device``
    with what it resolved, which the command hands on as it is: a training command's
    :class:`~kobert_gluon.training.placement.Placement` (its precision turned on), another's contexts."""
    if not getattr(args, 'takes_device', False):
        return
    device, option = args.device, '--device'
    if args.gpus is not None:
        from ..core.devices import gpus_to_device
        device, option = gpus_to_device(args.gpus), '--gpus {} means --device'.format(args.gpus)
    if getattr(args, 'dtype', None) is not None:
        from ..training.distributed import from_environment
        from ..training.placement import place_training
        args.device = place_training(device, args.dtype, from_environment(), what=option)
    else:
        from ..core.devices import parse_devices
        args.device = parse_devices(device, what=option)


def add_run_folder_args(parser):
    run = parser.add_argument_group('run folder')
    run.add_argument('--out', required=True, help='run folder (created; docs/guides/files.md lists its contents)')
    mode = run.add_mutually_exclusive_group()
    mode.add_argument('--overwrite', action='store_true', help='replace an existing run in --out')
    mode.add_argument('--resume', action='store_true',
                      help='continue the interrupted run in --out (settings come from its run.json)')
    return run


def set_path(document: Dict[str, Any], dotted: str, value) -> None:
    keys = dotted.split('.')
    for key in keys[:-1]:
        document = document.setdefault(key, {})
    document[keys[-1]] = value


def settings_document(args, setting_paths: Dict[str, str], new_run: Dict[str, Any]) -> Dict[str, Any]:
    """The settings document the options describe: ``new_run`` (or, with --resume, the run's saved settings)
    with every given option written to its place."""
    if args.resume:
        from ..training.run_folder import read_run_settings
        try:
            document = read_run_settings(args.out)
        except FileNotFoundError as err:
            raise UsageError('--resume: {}'.format(err)) from None
    else:
        document = new_run
    for option, dotted in setting_paths.items():
        value = getattr(args, option)
        if value is not None:
            set_path(document, dotted, value)
    return document


def stderr_notes(args, ranks=None):
    """Where a command's notes go (a training run's per-epoch lines, predict's remarks): stderr, or nowhere with
    --quiet. With ``ranks`` (a training job's place in a Horovod job): rank 0's only, so each line appears once."""
    if getattr(args, 'quiet', False) or (ranks is not None and not ranks.is_writer):
        return lambda line: None
    return lambda line: print(line, file=sys.stderr)


@contextlib.contextmanager
def options_named(setting_paths: Dict[str, str]):
    """Within it, a value refused by the package's rules (:class:`~kobert_gluon.core.checks.RuleError`: settings,
    the run's checks) names the command's options instead of the settings fields: ``training.seed`` -> ``--seed``.
    The rule and its wording stay the package's own; only the names change."""
    options = {dotted: '--' + option.replace('_', '-') for option, dotted in setting_paths.items()}
    try:
        yield
    except checks.RuleError as err:
        raise UsageError(str(err.respelled(lambda name: options.get(name, name)))) from None


def add_runtime_args(parser):
    """--runtime, --precision, --calibration, --threads and --device: what computes a fine-tuned model's predictions
    (evaluate, predict, serve)."""
    parser.add_argument('--runtime', choices=RUNTIMES, default='mxnet',
                        help='what computes the model: mxnet (the Gluon model), or onnxruntime / openvino on its ONNX '
                             'export, made once per model and kept in the cache (default: %(default)s)')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help='fp32; bf16 (mxnet where the CPU has bfloat16, openvino); int8 (mxnet calibrated on '
                             '--calibration, onnxruntime, openvino); docs/results.md has the accuracy of each '
                             '(default: %(default)s)')
    parser.add_argument('--calibration', metavar='FILE',
                        help='--runtime mxnet --precision int8: rows of the task\'s data to calibrate on, read as '
                             '--input is (the dev split: 512 examples of its first 2,048 rows are used); the '
                             'calibrated graph is kept in the cache')
    parser.add_argument('--threads', type=int, metavar='N',
                        help='threads for onnxruntime / openvino (default: the CPUs this process may use)')
    add_device_args(parser, splits_batches=False)

def load_predictor_from_args(args, table_overrides=None, encoding: str = 'utf-8'):
    """The fine-tuned model ``--model`` names, computed as :func:`add_runtime_args`' options say."""
    import logging
    from pathlib import Path
    from ..models.zoo import list_models
    if args.model not in list_models() and not Path(args.model).exists():
        raise UsageError('--model {}: no such folder, and not a registered model ({})'
                         .format(args.model, ', '.join(list_models())))
    if args.threads is not None and args.threads < 1:
        raise UsageError('--threads must be at least 1')
    from ..deploy.runtime import runtime_for
    if runtime_for(args.runtime, args.precision).runner is None and args.threads is not None:
        raise UsageError('--threads applies to onnxruntime and openvino; MXNet reads OMP_NUM_THREADS')
    from ..deploy.predictor import load_predictor
    model = load_predictor(args.model, runtime=args.runtime, precision=args.precision, threads=args.threads,
                           device=args.device, calibration=args.calibration, table_overrides=table_overrides,
                           encoding=encoding)
    logging.getLogger('kobert_gluon.cli').debug('%s computes with: %s', args.model, model.graph)
    return model
