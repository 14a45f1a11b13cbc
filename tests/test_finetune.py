"""Fine-tuning end to end: run folders, resume equivalence (in-process stop and SIGKILL), the saved model."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import FineTunedModel, FinetuneSettings, TrainingConfig, finetune, get_model
from kobert_gluon.training.trainer import read_checkpoint

REPO = Path(__file__).resolve().parents[1]
TINY = dict(num_layers=1, units=32, hidden_size=64, num_heads=2)
GOOD = ['정말 재미있고 감동적인 영화', '배우 연기가 좋았다', '최고의 작품 강력 추천', '음악이 아름답다']
BAD = ['시간 낭비 최악의 영화', '지루하고 유치하다', '돈이 아깝다', '연출이 엉망이다']


def write_reviews(path, rows=48, held_out=False):
    """Reviews of two sentiment phrases each; ``held_out``: pairs of phrases no training file has (a dev file made
    of training rows is refused)."""
    lines = ['id\tdocument\tlabel']
    for i in range(rows):
        words = GOOD if i % 2 else BAD
        lines.append('{}\t{} {}\t{}'.format(i, words[i % 4], words[(i // 2 + held_out) % 4], i % 2))
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return path


@pytest.fixture
def reviews(tmp_path):
    return write_reviews(tmp_path / 'train.tsv'), write_reviews(tmp_path / 'dev.tsv', rows=20, held_out=True)


def settings_for(train, dev, **training):
    options = dict(epochs=2, learning_rate=2e-3, checkpoint_every=2, progress=False)
    options.update(training)
    # kobert-mini's architecture and vocabulary (shipped in the package), shrunk further, random weights
    return FinetuneSettings(task='nsmc', train=str(train), dev=str(dev), model='kobert-mini', from_scratch=True,
                            model_overrides=TINY,
                            max_seq_length=24, batch_size=8, training=TrainingConfig(**options))


def params_of(folder):
    return {k: v.asnumpy() for k, v in mx.nd.load(str(Path(folder) / 'best' / 'model.params')).items()}


def assert_same_run(folder_a, folder_b):
    a = json.loads((Path(folder_a) / 'metrics.json').read_text())
    b = json.loads((Path(folder_b) / 'metrics.json').read_text())
    assert len(a['epochs']) == len(b['epochs'])
    for epoch_a, epoch_b in zip(a['epochs'], b['epochs']):
        assert epoch_a['train_loss'] == pytest.approx(epoch_b['train_loss'], rel=1e-5)
        for name, value in epoch_a['dev'].items():
            assert epoch_b['dev'][name] == pytest.approx(value, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose([s[1] for s in a['steps']], [s[1] for s in b['steps']], rtol=1e-5)
    params_a, params_b = params_of(folder_a), params_of(folder_b)
    assert params_a.keys() == params_b.keys()
    for name in params_a:
        np.testing.assert_allclose(params_a[name], params_b[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_run_folder_contents_and_saved_model(reviews, tmp_path):
    train, dev = reviews
    out = tmp_path / 'run'
    result = finetune(settings_for(train, dev), out, log=lambda line: None)
    assert sorted(p.name for p in out.iterdir()) == ['best', 'checkpoint', 'kobert-gluon-folder.json',
                                                     'metrics.json', 'run.json', 'training.png']
    assert (out / 'training.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    metrics = json.loads((out / 'metrics.json').read_text())
    assert [e['epoch'] for e in metrics['epochs']] == [1, 2] and metrics['total_steps'] == 12
    assert set(metrics['epochs'][0]['dev']) == {'accuracy', 'macro_f1', 'f1_negative', 'f1_positive', 'loss'}
    run = json.loads((out / 'run.json').read_text())
    assert run['labels'] == ['0', '1'] and run['label_names'] == ['negative', 'positive']
    assert run['data']['train']['examples'] == 48
    # the best model loads with the registry function, as a classifier with its label names
    model, vocab = get_model(str(out / 'best'))
    assert model.labels == ['negative', 'positive'] and len(vocab) == 8002
    loaded = FineTunedModel.load(out)  # a run folder means its best model
    best_dev = metrics['epochs'][result.best['epoch'] - 1]['dev']
    again = loaded.evaluate(dev)
    assert again['accuracy'] == pytest.approx(best_dev['accuracy'])
    assert again['loss'] == pytest.approx(best_dev['loss'], rel=1e-4)
    probabilities = loaded.predict(['배우 연기가 좋았다', '돈이 아깝다'])
    assert probabilities.shape == (2, 2) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_head_hybridizes_and_exports_with_the_onnx_signature(reviews, tmp_path):
    train, dev = reviews
    finetune(settings_for(train, dev, epochs=1), tmp_path / 'run', log=lambda line: None)
    model = FineTunedModel.load(tmp_path / 'run').model
    ids = mx.nd.array([[2, 100, 200, 3, 1]], dtype='int32')
    types, valid = mx.nd.zeros_like(ids), mx.nd.array([4])
    scores = model(ids, types, valid)
    model.export(str(tmp_path / 'exported'))  # only a hybridized, already-run block can export
    symbol = json.loads((tmp_path / 'exported-symbol.json').read_text())
    inputs = [node['name'] for node in symbol['nodes'] if node['op'] == 'null' and node['name'].startswith('data')]
    assert inputs == ['data0', 'data1', 'data2'] and scores.shape == (1, 2)


def test_resume_after_stop_mid_epoch_matches_uninterrupted_run(reviews, tmp_path):
    train, dev = reviews
    settings = settings_for(train, dev, epochs=3, accumulate=2)
    finetune(settings, tmp_path / 'straight', log=lambda line: None)
    # 48 examples / 8 = 6 micro-batches = 3 steps per epoch. Stop after step 5 (epoch 2, mid-epoch); the last
    # checkpoint is step 4, so step 5 is lost as in a kill and must be redone identically, dropout included.
    stopped = finetune(settings, tmp_path / 'resumed', log=lambda line: None,
                       should_stop=lambda progress: progress['step'] == 5)
    assert stopped.interrupted
    checkpoint = read_checkpoint(tmp_path / 'resumed' / 'checkpoint')['progress']
    assert (checkpoint['epoch'], checkpoint['batch'], checkpoint['step']) == (1, 2, 4)
    resumed = finetune(settings, tmp_path / 'resumed', resume=True, log=lambda line: None)
    assert not resumed.interrupted
    assert_same_run(tmp_path / 'straight', tmp_path / 'resumed')
    # ...and the comparison is not vacuous: another seed gives another run
    finetune(settings_for(train, dev, epochs=3, accumulate=2, seed=1), tmp_path / 'other', log=lambda line: None)
    with pytest.raises(AssertionError):
        assert_same_run(tmp_path / 'straight', tmp_path / 'other')


def test_resume_refuses_changed_settings_and_existing_runs_are_protected(reviews, tmp_path):
    train, dev = reviews
    out = tmp_path / 'run'
    finetune(settings_for(train, dev, epochs=1), out, log=lambda line: None)
    with pytest.raises(FileExistsError, match='--overwrite to replace the run, --resume to continue it'):
        finetune(settings_for(train, dev, epochs=1), out, log=lambda line: None)
    with pytest.raises(ValueError, match=r'training.learning_rate: 0.002 -> 0.001'):
        finetune(settings_for(train, dev, epochs=1, learning_rate=1e-3), out, resume=True, log=lambda line: None)
    (tmp_path / 'notes').mkdir()
    (tmp_path / 'notes' / 'keep.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='was not written by kobert-gluon'):
        finetune(settings_for(train, dev, epochs=1), tmp_path / 'notes', overwrite=True, log=lambda line: None)
    assert (tmp_path / 'notes' / 'keep.txt').read_text() == 'mine'
    finetune(settings_for(train, dev, epochs=1), out, overwrite=True, log=lambda line: None)


def cli(*args, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, '-m', 'kobert_gluon'] + [str(a) for a in args], env=env, cwd=str(REPO),
                          capture_output=True, text=True, **kwargs)


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path):
    train = write_reviews(tmp_path / 'train.tsv', rows=400)
    dev = write_reviews(tmp_path / 'dev.tsv', rows=20, held_out=True)
    args = ['finetune', '--task', 'nsmc', '--train', train, '--dev', dev, '--model', 'kobert-mini', '--from-scratch',
            '--num-layers', 1,
            '--units', 32, '--hidden-size', 64, '--num-heads', 2, '--max-seq-length', 24, '--batch-size', 8,
            '--epochs', 2, '--lr', 1e-3, '--checkpoint-every', 5, '--no-progress']
    straight = cli(*args, '--out', tmp_path / 'straight')
    assert straight.returncode == 0, straight.stderr
    killed = tmp_path / 'killed'
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    process = subprocess.Popen([sys.executable, '-m', 'kobert_gluon'] + [str(a) for a in args] + ['--out', killed],
                               env=env, cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (killed / 'checkpoint').exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, 'the run finished before it could be killed'
    progress = read_checkpoint(killed / 'checkpoint')['progress']
    assert progress['epoch'] == 0 and 0 < progress['batch'] < 50  # killed in the middle of the first epoch
    assert not (killed / 'best').exists()
    resumed = cli('finetune', '--resume', '--out', killed, '--no-progress')
    assert resumed.returncode == 0, resumed.stderr
    assert 'resumed at epoch 1, batch {}'.format(progress['batch']) in resumed.stderr
    assert_same_run(tmp_path / 'straight', killed)
