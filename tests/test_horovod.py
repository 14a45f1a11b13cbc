"""Data-parallel training on Horovod: two ranks on this machine (one thread each, Gloo) against one process.

With dropout 0 the runs must be the same computation: the same global batches, each rank's part weighted by its
share, gradients summed and applied as their mean, the same clipping. So the weights agree to float rounding
(the ranks' sums are added in another order) and so do the step losses and the dev metrics. Skipped where the
[horovod] extra is not installed (docs/guides/devices.md, "Many workers", has the command); CI installs it.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_finetune import write_reviews
from .training_checks import assert_same_training

REPO = Path(__file__).resolve().parents[1]
HOROVODRUN = shutil.which('horovodrun') or str(Path(sys.executable).parent / 'horovodrun')


def _horovod_missing() -> str:
    if not Path(HOROVODRUN).exists():
        return 'horovodrun is not installed (the [horovod] extra)'
    probe = subprocess.run([sys.executable, '-c', 'import kobert_gluon.core.mxnet_stack, horovod.mxnet'],
                           capture_output=True, text=True)
    return '' if probe.returncode == 0 else 'horovod.mxnet does not import: ' + probe.stderr.strip()[-200:]


if _horovod_missing() and os.environ.get('KOBERT_GLUON_REQUIRE_HOROVOD'):  # CI installed the extra: must not skip
    raise RuntimeError('KOBERT_GLUON_REQUIRE_HOROVOD is set but ' + _horovod_missing())
pytestmark = pytest.mark.skipif(bool(_horovod_missing()), reason=_horovod_missing() or 'horovod present')

TINY = ['--model', 'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '32', '--hidden-size', '64',
        '--num-heads', '2', '--dropout', '0', '--no-progress', '--seed', '1']


def run(*args, ranks=1):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    command = [sys.executable, '-m', 'kobert_gluon'] + [str(a) for a in args]
    if ranks > 1:
        command = [HOROVODRUN, '-np', str(ranks), '-H', 'localhost:{}'.format(ranks), '--gloo'] + command
    return subprocess.run(command, env=env, cwd=str(REPO), capture_output=True, text=True, timeout=600)


def test_two_ranks_finetune_like_one_process_and_only_rank_zero_writes(tmp_path):
    # 150 reviews in global batches of 16: bucketing leaves odd-sized last batches, split 1 / 0 at the very end
    train = write_reviews(tmp_path / 'train.tsv', rows=151)
    dev = write_reviews(tmp_path / 'dev.tsv', rows=20, held_out=True)
    args = ['finetune', '--task', 'nsmc', '--train', train, '--dev', dev, '--max-seq-length', 24, '--batch-size', 16,
            '--epochs', 2, '--lr', 3e-3, '--checkpoint-every', 3] + TINY
    single = run(*args, '--out', tmp_path / 'one')
    assert single.returncode == 0, single.stderr
    double = run(*args, '--out', tmp_path / 'two', ranks=2)
    assert double.returncode == 0, double.stdout + double.stderr
    metrics_one, metrics_two = assert_same_training(tmp_path / 'one', tmp_path / 'two')
    for epoch_one, epoch_two in zip(metrics_one['epochs'], metrics_two['epochs']):
        assert epoch_two['train_loss'] == pytest.approx(epoch_one['train_loss'], rel=1e-5)
        for name, value in epoch_one['dev'].items():
            assert epoch_two['dev'][name] == pytest.approx(value, rel=1e-5, abs=1e-6)
    # it trained (the comparison has content): the loss fell, and the weights left their initial values
    assert metrics_one['epochs'][-1]['train_loss'] < metrics_one['epochs'][0]['train_loss']
    # one writer: one result line, one set of log lines
    assert double.stdout.count('best dev accuracy') == 1
    assert double.stdout.count('epoch 2/2') + double.stderr.count('epoch 2/2') == 1
    # resuming needs the same number of ranks
    resumed = run(*args, '--out', tmp_path / 'two', '--resume')
    assert resumed.returncode == 2 and 'written by 2 rank(s), this run has 1' in resumed.stderr


def test_a_global_batch_must_divide_among_the_ranks(tmp_path):
    train = write_reviews(tmp_path / 'train.tsv', rows=40)
    result = run('finetune', '--task', 'nsmc', '--train', train, '--dev-fraction', 0.2, '--batch-size', 15,
                 '--out', tmp_path / 'run', *TINY, ranks=2)
    assert result.returncode != 0
    assert '--batch-size 15 is the global batch: it must divide evenly among 2 ranks' in result.stderr
    assert not (tmp_path / 'run').exists()


def test_two_ranks_pretrain_like_one_process(tmp_path, nsmc_train_slice, nsmc_vocab):  # noqa: F811
    reviews = tmp_path / 'reviews.txt'
    with open(nsmc_train_slice, encoding='utf-8') as source:
        reviews.write_text(''.join(source.readline() for _ in range(201)), encoding='utf-8')
    data = tmp_path / 'data'
    made = run('create-pretraining-data', '--input', reviews, '--column', 'document', '--input-format', 'lines',
               '--vocab', nsmc_vocab.folder, '--out', data, '--max-seq-length', 48, '--max-predictions-per-seq', 8,
               '--dupe-factor', 1, '--chunk-documents', 100, '--instances-per-shard', 100)
    assert made.returncode == 0, made.stderr
    args = ['pretrain', '--data', data, '--vocab', nsmc_vocab.folder, '--model', 'kobert-base', '--from-scratch',
            '--num-layers', 1, '--units', 32, '--hidden-size', 64, '--num-heads', 2, '--max-length', 48,
            '--dropout', 0, '--batch-size', 8, '--max-steps', 12, '--eval-every', 6, '--lr', 1e-3, '--seed', 1,
            '--dev-chunks', 1, '--no-progress']
    single = run(*args, '--out', tmp_path / 'one')
    assert single.returncode == 0, single.stderr
    double = run(*args, '--out', tmp_path / 'two', ranks=2)
    assert double.returncode == 0, double.stdout + double.stderr
    # each loss term divided by its count over all ranks (masked positions for MLM, sequences for NSP), so the
    # ranks' parts may hold different numbers of masked positions and the step is still one process's
    metrics_one, metrics_two = assert_same_training(tmp_path / 'one', tmp_path / 'two')
    assert len(metrics_one['evaluations']) == len(metrics_two['evaluations']) == 2
    for one, two in zip(metrics_one['evaluations'], metrics_two['evaluations']):
        for name, value in one['dev'].items():
            assert two['dev'][name] == pytest.approx(value, rel=1e-5)
    # the task metrics logged per step are the sums over the ranks too
    for one, two in zip(metrics_one['steps'], metrics_two['steps']):
        assert two[4]['mlm_accuracy'] == pytest.approx(one[4]['mlm_accuracy'], abs=1e-9)


from .nsmc_fixtures import nsmc_train_slice, nsmc_vocab  # noqa: E402,F401


def test_two_ranks_distill_like_one_process(tmp_path, data, teacher_folder):  # noqa: F811
    args = ['distill', '--data', data.folder, '--teacher', teacher_folder, '--student-layers', 2,
            '--student-architecture', 'distilbert', '--dropout', 0, '--batch-size', 16, '--max-steps', 6,
            '--eval-every', 3, '--lr', 5e-3, '--warmup-ratio', 0, '--max-dev-instances', 64, '--seed', 1,
            '--no-progress']
    single = run(*args, '--out', tmp_path / 'one')
    assert single.returncode == 0, single.stderr
    double = run(*args, '--out', tmp_path / 'two', ranks=2)
    assert double.returncode == 0, double.stdout + double.stderr
    metrics_one, metrics_two = assert_same_training(tmp_path / 'one', tmp_path / 'two')
    for one, two in zip(metrics_one['evaluations'], metrics_two['evaluations']):
        assert two['dev']['loss'] == pytest.approx(one['dev']['loss'], rel=1e-5)


from .test_distill import teacher_folder  # noqa: E402,F401
from .test_pretraining import data  # noqa: E402,F401
