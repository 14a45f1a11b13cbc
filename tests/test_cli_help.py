"""Every subcommand's --help is built from MXNet-free modules (not timed here: benchmarks/bench_cli_help.py times
it), and the choices and defaults those parsers show, written out in cli/parser_data.py, are the registries' and
the settings classes' own."""
import json
import subprocess
import sys

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
    assert parser_data.OBJECTIVES == tuple(OBJECTIVES.names())
    assert parser_data.RUNTIMES == tuple(RUNTIMES.names())
    assert parser_data.PRECISIONS == tuple(PRECISIONS)
    from kobert_gluon.cli.finetune import INPUT_FORMATS
    from kobert_gluon.tasks import datasets
    assert INPUT_FORMATS == datasets.INPUT_FORMATS


def _written_out_equal(written, real):
    """Every value written out equals the real one (a name the real settings lack is a KeyError)."""
    assert {name: real[name] for name in written} == written


def test_the_parsers_defaults_are_the_settings(tmp_path):
    from kobert_gluon.pretraining.distill import DistillSettings
    from kobert_gluon.pretraining.pretrain import PretrainSettings, pretraining_training_config
    from kobert_gluon.tasks.finetuning import FinetuneSettings
    from kobert_gluon.training.trainer import TrainingConfig
    _written_out_equal(parser_data.TRAINING, TrainingConfig().to_dict())
    _written_out_equal(parser_data.PRETRAINING_TRAINING, pretraining_training_config().to_dict())
    assert set(parser_data.PRETRAINING_TRAINING) == set(parser_data.TRAINING)
    _written_out_equal(parser_data.FINETUNE, FinetuneSettings(task='nsmc', train='train.tsv').to_dict())
    _written_out_equal(parser_data.PRETRAIN, PretrainSettings(data=str(tmp_path)).to_dict())
    _written_out_equal(parser_data.DISTILL,
                       DistillSettings(data=str(tmp_path), teacher='kobert-mini', student_layers=1).to_dict())
