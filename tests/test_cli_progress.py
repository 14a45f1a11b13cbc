"""Commands that can run long show their progress on stderr, as a user sees it: whole lines where stderr is not a
terminal (here: captured), a bar on a terminal, nothing with --no-progress or --quiet, nothing from the Python API;
and the training bar's time left counts --max-steps, not the epoch's length."""
import os
import re
import subprocess
import sys

import pytest

from kobert_gluon.core import progress

from .conftest import REPO, run_cli
from .nsmc_fixtures import nsmc_train_slice  # noqa: F401

MODEL = 'kobert-mini-nsmc'
REVIEWS = ['정말 재밌어요', '최악의 영화', '배우 연기가 좋았다', '시간 낭비였다', '음악이 감동적이었다', '지루하고 길다'] * 10


@pytest.fixture(autouse=True)
def every_update(monkeypatch):
    """A line at every update (the default is one every 30 s), so these short runs show their progress lines."""
    monkeypatch.setenv(progress.INTERVAL_VARIABLE, '0')


def _table(tmp_path, rows=REVIEWS):
    path = tmp_path / 'reviews.tsv'
    path.write_text('id\tdocument\tlabel\n' + ''.join('{}\t{}\t{}\n'.format(i, text, i % 2)
                                                      for i, text in enumerate(rows)), encoding='utf-8')
    return path


def _lines(err, command):
    return [line for line in err.splitlines() if line.startswith('kobert-gluon {}: '.format(command))]


def test_evaluate_shows_its_progress_and_no_progress_turns_it_off(tmp_path, capsys):
    table = _table(tmp_path)
    code, out, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', table, '--batch-size', '16')
    assert code == 0 and 'accuracy\t' in out
    lines = _lines(err, 'evaluate')
    assert lines[0] == 'kobert-gluon evaluate: predicting: 0/60 examples (0%) ...'
    assert re.fullmatch(r'kobert-gluon evaluate: predicting: 16/60 examples \(27%\), [\d.,]+ examples/s, '
                        r'\d+ s left', lines[1]), lines
    assert re.fullmatch(r'kobert-gluon evaluate: predicting: 60/60 examples \(100%\) in \d+ s \(.*\)', lines[-1])
    assert '\r' not in err  # whole lines: a log file gets no carriage returns
    for off in (['evaluate', '--no-progress'], ['--quiet', 'evaluate']):
        code, out, err = run_cli(capsys, *off, '--model', MODEL, '--data', table)
        assert code == 0 and 'accuracy\t' in out and err == ''


def test_predict_shows_progress_for_a_file_not_for_a_few_arguments(tmp_path, capsys):
    reviews = tmp_path / 'reviews.txt'
    reviews.write_text('\n'.join(REVIEWS) + '\n', encoding='utf-8')
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', reviews, '--input-format', 'lines')
    assert code == 0 and len(out.splitlines()) == 61
    assert _lines(err, 'predict')[0] == 'kobert-gluon predict: predicting: 0/60 examples (0%) ...'
    assert _lines(err, 'predict')[-1].startswith('kobert-gluon predict: predicting: 60/60 examples (100%) in ')
    code, same, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', reviews, '--input-format', 'lines',
                              '--no-progress')
    assert code == 0 and same == out and err == ''
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, '좋아요', '싫어요')
    assert code == 0 and len(out.splitlines()) == 3 and err == ''


def test_the_python_api_stays_silent(capsys):
    from kobert_gluon import FineTunedModel
    model = FineTunedModel.load(MODEL)
    probabilities = model.predict(REVIEWS, batch_size=8)
    assert probabilities.shape == (60, 2)
    assert capsys.readouterr().err == ''


def test_build_vocab_and_create_pretraining_data_say_what_they_do(nsmc_train_slice, tmp_path, capsys):  # noqa: F811
    code, out, err = run_cli(capsys, 'build-vocab', '--corpus', nsmc_train_slice, '--column', 'document',
                             '--size', '1500', '--threads', '1', '--out', tmp_path / 'vocab')
    assert code == 0 and 'vocabulary: 1,502 tokens' in out
    lines = _lines(err, 'build-vocab')
    assert 'kobert-gluon build-vocab: reading the corpus: 0 lines ...' in lines
    assert any(re.fullmatch(r'kobert-gluon build-vocab: reading the corpus: 2,000 lines in \d+ s \(.*\)', line)
               for line in lines), lines
    assert 'kobert-gluon build-vocab: training a 1,500-piece SentencePiece unigram model on 2,000 lines with 1 ' \
           'thread(s)' in lines
    corpus = tmp_path / 'corpus.txt'
    corpus.write_text('\n'.join(REVIEWS * 4) + '\n', encoding='utf-8')
    code, out, err = run_cli(capsys, 'create-pretraining-data', '--input', corpus, '--input-format', 'lines',
                             '--vocab', 'kobert-mini', '--out', tmp_path / 'data', '--dupe-factor', '1')
    assert code == 0 and '240 documents ->' in out
    lines = _lines(err, 'create-pretraining-data')
    assert lines[0] == 'kobert-gluon create-pretraining-data: making instances: 0 documents ...'
    assert re.fullmatch(r'kobert-gluon create-pretraining-data: making instances: 240 documents in \d+ s \(.*\); '
                        r'instances [\d,]+', lines[-1]), lines
    code, out, err = run_cli(capsys, 'create-pretraining-data', '--input', corpus, '--input-format', 'lines',
                             '--vocab', 'kobert-mini', '--out', tmp_path / 'data2', '--dupe-factor', '1',
                             '--no-progress')
    assert code == 0 and err == ''


def test_conversions_say_what_they_do(tmp_path, capsys):
    code, _, err = run_cli(capsys, 'export-hf', MODEL, '--out', tmp_path / 'hf')
    assert code == 0
    assert _lines(err, 'export-hf')[-1] == ('kobert-gluon export-hf: writing 73 tensors as a '
                                            'BertForSequenceClassification to {}'.format(tmp_path / 'hf'))
    code, _, err = run_cli(capsys, 'import-hf', tmp_path / 'hf', '--out', tmp_path / 'back')
    assert code == 0
    assert _lines(err, 'import-hf') == [
        'kobert-gluon import-hf: reading the checkpoint in {}'.format(tmp_path / 'hf'),
        'kobert-gluon import-hf: building the BertForSequenceClassification and placing its 73 tensors',
        'kobert-gluon import-hf: writing the model folder {}'.format(tmp_path / 'back')]
    code, out, err = run_cli(capsys, 'export-onnx', '--model', MODEL, '--out', tmp_path / 'm.onnx', '--verify')
    assert code == 0 and 'exported' in out
    lines = _lines(err, 'export-onnx')
    assert lines[:2] == ['kobert-gluon export-onnx: loading kobert-mini-nsmc',
                         'kobert-gluon export-onnx: exporting with MXNet\'s ONNX exporter (opset 13)']
    assert lines[2] == 'kobert-gluon export-onnx: checking MXNet against onnxruntime: 0/6 batches (0%) ...'
    assert lines[-1].startswith('kobert-gluon export-onnx: checking MXNet against onnxruntime: 6/6 batches (100%)')
    code, _, err = run_cli(capsys, 'import-hf', tmp_path / 'hf', '--out', tmp_path / 'again', '--no-progress')
    assert code == 0 and err == ''


def test_the_training_bar_counts_max_steps_not_the_epoch(nsmc_train_slice, tmp_path, capsys):  # noqa: F811
    # 2,000 reviews at batch 8 are 250 batches an epoch; --max-steps 5 with --accumulate 2 runs 10 of them
    code, out, err = run_cli(capsys, 'finetune', '--task', 'nsmc', '--train', nsmc_train_slice, '--dev-fraction',
                             '0.05', '--max-steps', '5', '--accumulate', '2', '--batch-size', '8', '--model',
                             'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '32', '--hidden-size',
                             '64', '--num-heads', '2', '--max-seq-length', '32', '--out', tmp_path / 'run')
    assert code == 0, err
    lines = _lines(err, 'finetune')
    bar = [line for line in lines if line.startswith('kobert-gluon finetune: epoch ')]
    assert bar[0] == 'kobert-gluon finetune: epoch 1/1: 0/10 batches (0%) ...'
    assert re.fullmatch(r'kobert-gluon finetune: epoch 1/1: 10/10 batches \(100%\) in \d+ s \(.*\); loss .*', bar[-1])
    left = [re.search(r'batches/s, (.*) left;', line) for line in bar[1:-1]]
    assert len(left) == 4 and all(left)  # a line per optimisation step (2 batches), each with its time left
    counts = [int(re.search(r': (\d+)/10 batches', line).group(1)) for line in bar[1:-1]]
    assert counts == [2, 4, 6, 8]
    for line, match in zip(bar[1:-1], left):  # time left = batches left / rate: bounded by the 10 batches to run
        done = int(re.search(r': (\d+)/10', line).group(1))
        rate = float(re.search(r'([\d.,]+) batches/s', line).group(1).replace(',', ''))
        seconds = progress_seconds(match.group(1))
        assert seconds == pytest.approx((10 - done) / rate, abs=1.0), line
    code, out, err = run_cli(capsys, 'finetune', '--task', 'nsmc', '--train', nsmc_train_slice, '--dev-fraction',
                             '0.05', '--max-steps', '2', '--batch-size', '8', '--model', 'kobert-mini',
                             '--from-scratch', '--num-layers', '1', '--units', '32', '--hidden-size', '64',
                             '--num-heads', '2', '--max-seq-length', '32', '--no-progress', '--out',
                             tmp_path / 'quiet-run')
    assert code == 0 and not [line for line in err.splitlines() if 'batches' in line]


def progress_seconds(text):
    """``'12 s'``, ``'2 min 38 s'``, ``'3 h 15 min'`` -> seconds (what format_duration writes)."""
    units = {'h': 3600, 'min': 60, 's': 1}
    parts = text.split()
    return sum(int(value) * units[unit] for value, unit in zip(parts[::2], parts[1::2]))


def test_time_left_and_durations():
    assert [progress.format_duration(s) for s in (0.4, 12, 158, 11700)] == ['0 s', '12 s', '2 min 38 s',
                                                                            '3 h 15 min']
    assert progress_seconds('3 h 15 min') == 11700


def test_on_a_terminal_it_is_a_bar(tmp_path):
    """stderr a terminal (a pseudo-terminal here): the tqdm bar, redrawn in place."""
    import fcntl
    import pty
    import struct
    import termios
    table = _table(tmp_path)
    leader, follower = pty.openpty()
    # 24 rows x 120 columns: a new pseudo-terminal is 0 x 0, where tqdm has no room to draw
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 120, 0, 0))
    try:
        done = subprocess.run([sys.executable, '-m', 'kobert_gluon', 'evaluate', '--model', MODEL, '--data',
                               str(table), '--batch-size', '16'], stdout=subprocess.PIPE, stderr=follower,
                              cwd=str(REPO), env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
        os.close(follower)
        follower = None
        seen = b''
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0 and b'accuracy\t' in done.stdout
    text = seen.decode('utf-8', 'replace')
    assert '\r' in text and 'predicting: 100%' in text and '60/60' in text
    assert 'kobert-gluon evaluate: predicting: 0/60' not in text  # not the lines a log gets
