"""Every subcommand's --help is built from MXNet-free modules (not timed here: benchmarks/bench_cli_help.py times
it), and the choices and defaults those parsers show, written out in cli/parser_data.py, are the registries' and
the settings classes' own."""
import json
import subprocess
import sys

import pytest

from kobert_gluon.cli import parser_data

from .conftest import REPO

HEAVY = ('mxnet', 'gluonnlp', 'numpy')

# One fresh interpreter: each command's help in turn, noting the heavy modules present after it (a module imported
# by one command's parser stays loaded, so the first command that loads it is the one named).
_HELP_OF_EVERY_COMMAND = '''
import contextlib, io, json, sys
from kobert_gluon.cli import build_parser, main
commands = list(next(a for a in build_parser(only="")._actions if a.dest == "command").choices)
report = {}
for command in commands:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main([command, "--help"])
            code = None
        except SystemExit as exit:
            code = exit.code
    report[command] = {"code": code, "usage": out.getvalue().startswith("usage: kobert-gluon " + command),
                       "heavy": [m for m in %r if m in sys.modules]}
print(json.dumps(report))
''' % (HEAVY,)


def test_every_subcommands_help_imports_no_mxnet_gluonnlp_or_numpy():
    done = subprocess.run([sys.executable, '-c', _HELP_OF_EVERY_COMMAND], cwd=str(REPO), capture_output=True,
                          text=True, check=True)
    report = json.loads(done.stdout)
    assert len(report) >= 19 and {'finetune', 'evaluate', 'predict', 'score-qa', 'pretrain', 'distill',
                                  'serve'} <= set(report)
    for command, seen in report.items():
        assert seen['code'] == 0 and seen['usage'], (command, seen)
        assert seen['heavy'] == [], '{} --help imported {}'.format(command, ', '.join(seen['heavy']))


def test_the_parsers_choices_are_the_registries():
    from kobert_gluon.deploy.runtime import PRECISIONS, RUNTIMES
    from kobert_gluon.pretraining.pretrain import OBJECTIVES
    from kobert_gluon.tasks.structures import metric_choices, task_kinds  # every structure's kinds registered
    assert parser_data.TASK_KINDS == tuple(task_kinds())
    assert parser_data.TASK_METRICS == {kind: tuple(metric_choices(kind)) for kind in task_kinds()}
    assert parser_data.METRICS == tuple(metric_choices())
    from kobert_gluon.pretraining.settings import OBJECTIVE_NAMES
    assert OBJECTIVE_NAMES == tuple(OBJECTIVES.names())
    from kobert_gluon.tokenizers.registry import vocabulary_kinds
    assert parser_data.VOCABULARY_KINDS == tuple(vocabulary_kinds())
    assert parser_data.RUNTIMES == tuple(RUNTIMES.names())
    assert parser_data.PRECISIONS == tuple(PRECISIONS)


def _parsed(*argv):
    from kobert_gluon.cli import build_parser
    return build_parser(only=argv[0]).parse_args(list(argv))


def _declared(settings_class):
    from kobert_gluon.core.settings_fields import declared_options
    return {option.flag: option for option in declared_options(settings_class)}


def test_every_declared_setting_is_an_option_whose_value_reaches_the_settings(tmp_path):
    """The finetune options are built from FinetuneSettings' and TrainingConfig's declarations: each one given on
    the command line lands in its field (a nested one in its section), and nothing else changes."""
    from kobert_gluon.cli.finetune import _settings_from
    from kobert_gluon.cli.run_options import settings_document
    from kobert_gluon.tasks.settings import FinetuneSettings
    from kobert_gluon.training.settings import TrainingConfig
    assert {'--train', '--dev', '--batch-size', '--encoding', '--min-label-count', '--skip-bad-rows'} <= set(
        _declared(FinetuneSettings))
    assert {'--lr', '--no-progress', '--warmup-steps', '--schedule'} <= set(_declared(TrainingConfig))
    args = _parsed('finetune', '--task', 'nsmc', '--train', 'train.tsv', '--out', str(tmp_path / 'run'),
                   '--batch-size', '7', '--eval-batch-size', '9', '--encoding', 'cp949', '--skip-bad-rows',
                   '--min-label-count', '2', '--classifier-dropout', '0.3', '--max-seq-length', '40',
                   '--lr', '0.001', '--warmup-steps', '5', '--schedule', 'cosine', '--no-progress', '--seed', '3')
    settings = _settings_from(args, settings_document(args, args.setting_paths, {'training': TrainingConfig().to_dict()}))
    assert isinstance(settings, FinetuneSettings)
    assert (settings.train, settings.batch_size, settings.eval_batch_size, settings.encoding) == (
        'train.tsv', 7, 9, 'cp949')
    assert (settings.skip_bad_rows, settings.min_label_count, settings.classifier_dropout) == (True, 2, 0.3)
    assert settings.max_seq_length == 40
    training = settings.training
    assert (training.learning_rate, training.warmup_steps, training.schedule, training.progress,
            training.seed) == (0.001, 5, 'cosine', False, 3)
    default = TrainingConfig()
    assert (training.epochs, training.weight_decay, training.max_grad_norm) == (
        default.epochs, default.weight_decay, default.max_grad_norm)
    assert settings.dropout is None and settings.num_workers == FinetuneSettings.__dataclass_fields__[
        'num_workers'].default


def test_pretraining_options_reach_their_settings_and_show_pretrainings_schedule(tmp_path, capsys):
    from kobert_gluon.cli.run_options import settings_document
    from kobert_gluon.pretraining.settings import DistillSettings, PretrainSettings, pretraining_training_config
    data = tmp_path / 'shards'
    data.mkdir()
    args = _parsed('pretrain', '--data', str(data), '--out', str(tmp_path / 'run'), '--objective', 'electra',
                   '--from-scratch', '--generator-size', '0.5', '--dev-chunks', '0', '--param-dtype', 'float16',
                   '--max-steps', '20', '--num-layers', '2')
    document = settings_document(args, args.setting_paths, {'data': str(data),
                                                            'training': pretraining_training_config().to_dict()})
    settings = PretrainSettings.from_dict(document)
    assert (settings.objective, settings.from_scratch, settings.generator_size, settings.dev_chunks,
            settings.param_dtype, settings.training.max_steps, settings.model_overrides) == (
        'electra', True, 0.5, 0, 'float16', 20, {'num_layers': 2})
    assert settings.training.learning_rate == pretraining_training_config().learning_rate  # not given: pretraining's
    args = _parsed('distill', '--data', str(data), '--teacher', 'kobert-mini', '--student-layers', '1', '--out',
                   str(tmp_path / 'd'), '--alpha-cos', '0', '--student-architecture', 'distilbert')
    document = settings_document(args, args.setting_paths, {'data': str(data), 'teacher': 'kobert-mini',
                                                            'student_layers': 1,
                                                            'training': pretraining_training_config().to_dict()})
    settings = DistillSettings.from_dict(document)
    assert (settings.alpha_cos, settings.student_architecture, settings.alpha_ce) == (0.0, 'distilbert', 0.33)
    # the help shows each command's own defaults, read from the declarations
    from kobert_gluon.cli import main
    for command, shown in (('pretrain', ('peak learning rate (default 0.0001)', 'sequences per micro-batch (default 64)',
                                         "--objective {bert,electra}", 'with --max-steps too')),
                           ('finetune', ('peak learning rate (default 5e-05)', 'sequences per micro-batch (default 32)',
                                         'MXNet optimizer name (default bertadam, i.e. AdamW)')),
                           ('distill', ('softmax temperature T (default 2)', 'stop after N optimisation steps'))):
        with pytest.raises(SystemExit):
            main([command, '--help'])
        text = ' '.join(capsys.readouterr().out.split())
        for words in shown:
            assert words in text, (command, words)


def test_a_value_the_settings_refuse_names_the_option(tmp_path, capsys):
    """The rule is the settings' own (TrainingConfig), its message names the option typed."""
    from kobert_gluon.cli import main
    code = main(['finetune', '--task', 'nsmc', '--train', 'x.tsv', '--out', str(tmp_path / 'r'), '--lr', '-1'])
    assert code == 2
    assert capsys.readouterr().err.strip().endswith('--lr must be a number > 0, got -1.0')
    assert not (tmp_path / 'r').exists()
