"""Outputs never land on a user's files, and an interrupted --overwrite never loses the previous run.

The one rule for file outputs (``core.output_files``): an existing file is replaced only with ``--overwrite`` and
only if it is what the command writes (a predictions file, an ONNX export of this package), and nothing is written
inside a folder the package owns (a model, run, vocabulary, export folder) except by the command that holds it.
The one rule for runs (``training.run_folder``): the replaced run stays whole until the new run has a ``best/``, and
every command that meets a folder left half-way says so and names ``kobert-gluon restore-run``.

Runs on the shipped kobert-mini models and data the tests write.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kobert_gluon.cli import main

from .conftest import error_line, run_cli
from .test_reliability_folders import REPO, copy_run, finetune_args, tree, write_reviews

MODEL = 'kobert-mini-nsmc'


@pytest.fixture(scope='module')
def model_copy(tmp_path_factory):
    """A copy of a shipped model folder: a kobert-gluon model folder the user holds."""
    from kobert_gluon.hub.catalogue import lookup
    target = tmp_path_factory.mktemp('models') / 'other'
    shutil.copytree(str(lookup('kobert-mini')), str(target))
    return target


def _predict_tsv(capsys, *texts):
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, *texts)
    assert code == 0, err
    return out


# ----- predict --output ----------------------------------------------------------------------------------------
def test_predict_output_replaces_only_its_own_predictions_and_only_when_asked(tmp_path, capsys):
    out = tmp_path / 'preds.tsv'
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '정말 재밌어요', '--output', out)
    assert code == 0, err
    first = out.read_text(encoding='utf-8')
    assert first.splitlines()[0] == 'text\tlabel\tp_negative\tp_positive' and len(first.splitlines()) == 2
    # again without --overwrite: refused, the file as it was
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '최악의 영화', '--output', out)
    assert code == 2 and 'already exists; pass --overwrite' in error_line(err, 'predict')
    assert out.read_text(encoding='utf-8') == first
    # with --overwrite: its own predictions file is replaced by the new predictions
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '최악의 영화', '재밌다', '--output', out, '--overwrite')
    assert code == 0, err
    assert out.read_text(encoding='utf-8') == _predict_tsv(capsys, '최악의 영화', '재밌다')


def test_predict_overwrite_never_replaces_a_users_data_file(tmp_path, capsys):
    data = tmp_path / 'mydata.tsv'
    rows = ['id\tdocument\tlabel'] + ['{}\t리뷰 {}\t{}'.format(i, i, i % 2) for i in range(500)]
    data.write_text('\n'.join(rows) + '\n', encoding='utf-8')
    before = data.read_bytes()
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '재밌어요', '--output', data, '--overwrite')
    line = error_line(err, 'predict')
    assert code == 2 and 'is not a predictions file written by kobert-gluon' in line and str(data) in line
    assert data.read_bytes() == before


def test_no_output_lands_inside_a_model_folder(model_copy, tmp_path, capsys):
    before = tree(model_copy)
    for args in (['predict', '--model', MODEL, '재밌어요', '--output', model_copy / 'config.json', '--overwrite'],
                 ['predict', '--model', MODEL, '재밌어요', '--output', model_copy / 'notes.tsv'],
                 ['export-onnx', '--model', MODEL, '--out', model_copy / 'model.params', '--overwrite'],
                 ['export-onnx', '--model', MODEL, '--out', model_copy / 'sub' / 'model.onnx']):
        code, _, err = run_cli(capsys, *args)
        line = error_line(err, args[0])
        assert code == 2 and 'a kobert-gluon model folder' in line and str(model_copy) in line, line
    assert tree(model_copy) == before and not (model_copy / 'sub').exists()
    # and the model still loads and predicts
    from kobert_gluon import get_model
    model, vocab = get_model(str(model_copy))
    assert len(vocab) == 8002


def test_folder_outputs_are_refused_inside_another_kobert_gluon_folder(model_copy, tmp_path, capsys):
    from kobert_gluon import get_model, load_tokenizer, save_model
    before = tree(model_copy)
    model, vocab = get_model('kobert-mini')
    with pytest.raises(ValueError, match='inside .*a kobert-gluon model folder'):
        save_model(model, vocab, model_copy / 'nested', load_tokenizer('kobert-mini'))
    corpus = tmp_path / 'corpus.txt'
    corpus.write_text('\n'.join('문장 {} 입니다'.format(i) for i in range(50)) + '\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'build-vocab', '--corpus', corpus, '--out', model_copy / 'vocab',
                           '--size', '100')
    assert code == 2 and 'a kobert-gluon model folder' in error_line(err, 'build-vocab')
    assert tree(model_copy) == before


def test_export_onnx_overwrite_replaces_only_an_onnx_export(tmp_path, capsys):
    onnx_file, data = tmp_path / 'model.onnx', tmp_path / 'data.tsv'
    data.write_text('id\tdocument\tlabel\n1\t좋다\t1\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'export-onnx', '--model', MODEL, '--out', data, '--overwrite')
    assert code == 2 and 'is not an ONNX export written by kobert-gluon' in error_line(err, 'export-onnx')
    assert data.read_text(encoding='utf-8') == 'id\tdocument\tlabel\n1\t좋다\t1\n'
    assert run_cli(capsys, 'export-onnx', '--model', MODEL, '--out', onnx_file)[0] == 0
    code, _, err = run_cli(capsys, 'export-onnx', '--model', MODEL, '--out', onnx_file)
    assert code == 2 and 'already exists' in error_line(err, 'export-onnx')
    first = onnx_file.read_bytes()
    tampered = first[:-1] + bytes([first[-1] ^ 1])  # its last byte changed: still this package's export by its header
    onnx_file.write_bytes(tampered)
    assert run_cli(capsys, 'export-onnx', '--model', MODEL, '--out', onnx_file, '--overwrite')[0] == 0
    replaced = onnx_file.read_bytes()
    assert replaced != tampered and len(replaced) == len(first) and replaced[-1] == first[-1]
    # the API follows the same rule
    from kobert_gluon import export_onnx, get_model
    model, _ = get_model(MODEL)
    with pytest.raises(FileExistsError, match='not an ONNX export written by kobert-gluon'):
        export_onnx(model, data, overwrite=True)
    assert data.read_text(encoding='utf-8').startswith('id\tdocument')


def test_a_predictions_file_is_recognised_by_its_content_in_every_shape(tmp_path):
    from kobert_gluon.core.output_files import check_output_file
    from kobert_gluon.tasks.prediction import PREDICTIONS
    ours = {
        'table.tsv': 'text\tlabel\tp_negative\tp_positive\n좋다\tpositive\t0.1\t0.9\n',
        'pairs.tsv': 'text_a\ttext_b\tscore\n가\t나\t3.5\n',
        'entities.jsonl': '{"text": "서울", "entities": [{"start": 0, "end": 2, "label": "LC", "text": "서울"}]}\n'
                          '{"text": "", "entities": []}\n',
        'answers.json': '{"q1": "서울", "q2": ""}\n',
    }
    theirs = {
        'data.tsv': 'id\tdocument\tlabel\n1\t좋다\t1\n',
        'labels.tsv': 'text\tlabel\n좋다\tpositive\n',
        'config.json': '{"architecture": "bert", "bert": {"units": 768}}\n',
        'lines.jsonl': '{"text": "서울", "label": 1}\n',
        'binary.bin': '\x00\x01\x02',
    }
    for name, text in list(ours.items()) + list(theirs.items()):
        (tmp_path / name).write_text(text, encoding='utf-8')
    for name in ours:
        assert check_output_file(tmp_path / name, PREDICTIONS, overwrite=True) == tmp_path / name
    for name in theirs:
        with pytest.raises(FileExistsError, match='not a predictions file'):
            check_output_file(tmp_path / name, PREDICTIONS, overwrite=True)


# ----- an interrupted --overwrite ----------------------------------------------------------------------------------
def _cli(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    return subprocess.Popen([sys.executable, '-m', 'kobert_gluon'] + [str(a) for a in args], env=env,
                            cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop_at_step(process, step: int, sig) -> str:
    """Wait until the run logs ``step N/``, then send ``sig``; returns stderr after the process ended."""
    seen, deadline = '', time.time() + 180
    while 'step {}/'.format(step) not in seen and time.time() < deadline:
        line = process.stderr.readline()
        assert line or process.poll() is None, 'the run ended early: ' + seen
        seen += line
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    return seen + err


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGKILL], ids=['ctrl-c', 'kill-9'])
def test_an_interrupted_overwrite_keeps_the_previous_run_whole_until_restored(sig, tmp_path, capsys):
    source = tmp_path / 'source'
    source.mkdir()
    train = write_reviews(source / 'train.tsv', rows=400)
    first = tmp_path / 'first'
    assert main(finetune_args(train, first)) == 0
    capsys.readouterr()
    out = copy_run(first, tmp_path / 'j01')
    old = tree(out)
    code, old_predictions, err = run_cli(capsys, 'predict', '--model', out, '정말 재밌어요', '최악의 영화')
    assert code == 0, err
    # a new run over it, stopped a few steps in: a checkpoint every step, so it can be continued; no best/ yet
    process = _cli(*finetune_args(train, out, '--overwrite', '--epochs', '2', '--log-every', '1',
                                  '--checkpoint-every', '1', '--lr', '1e-3'))
    err = _stop_at_step(process, 3, sig)
    assert process.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), err
    assert 'Traceback' not in err
    if sig == signal.SIGINT:
        assert 'restore-run' in err  # the interrupted run says where the previous one is, and how to get it back
    assert (out / 'checkpoint').is_dir() and not (out / 'best').exists()
    kept = {name[len('.replaced-run/'):]: data for name, data in tree(out).items()
            if name.startswith('.replaced-run/')}
    assert kept == {name: data for name, data in old.items() if name != 'kobert-gluon-folder.json'}
    # every command that reads the folder says what happened and the one command that restores it
    for args in (['predict', '--model', out, '재밌어요'], ['evaluate', '--model', out, '--data', train,
                                                         '--text-column', 'text', '--label-column', 'label'],
                 ['export-onnx', '--model', out, '--out', tmp_path / 'x.onnx'], ['verify', out]):
        code, _, err = run_cli(capsys, *args)
        line = error_line(err, args[0])
        assert code == 2 and 'half-way through --overwrite' in line and 'kobert-gluon restore-run {}'.format(out) \
            in line, line
    code, _, err = run_cli(capsys, *finetune_args(train, out))
    assert code == 2 and 'restore-run' in error_line(err, 'finetune')
    # restore-run brings the previous run back whole: same files, same predictions
    code, said, err = run_cli(capsys, 'restore-run', out)
    assert code == 0 and 'the previous run is back' in said, err
    restored = tree(out)
    assert {k: v for k, v in restored.items() if k != 'kobert-gluon-folder.json'} == \
        {k: v for k, v in old.items() if k != 'kobert-gluon-folder.json'}
    code, predictions, err = run_cli(capsys, 'predict', '--model', out, '정말 재밌어요', '최악의 영화')
    assert code == 0 and predictions == old_predictions, err
    code, _, err = run_cli(capsys, 'restore-run', out)
    assert code == 2 and 'nothing to restore' in error_line(err, 'restore-run')
    code, _, err = run_cli(capsys, 'restore-run', out / 'best')
    assert code == 2 and 'is a model folder, not a run folder' in error_line(err, 'restore-run')


def test_a_resumed_replacement_drops_the_previous_run_once_it_has_a_best_model(tmp_path, capsys):
    from kobert_gluon.tasks.finetuning import FinetuneSettings, finetune
    train = write_reviews(tmp_path / 'train.tsv', rows=40)
    out = tmp_path / 'run'
    assert main(finetune_args(train, out)) == 0
    settings = json.loads((out / 'run.json').read_text(encoding='utf-8'))['settings']
    new = FinetuneSettings.from_dict(dict(settings, training=dict(settings['training'], learning_rate=1e-3,
                                                                  checkpoint_every=1)))
    # stopped after two steps: two checkpoints written, no evaluation yet, so no best/
    result = finetune(new, out, overwrite=True, should_stop=lambda progress: progress['step'] >= 2,
                      log=lambda m: None)
    assert result.interrupted and (out / 'checkpoint').is_dir() and not (out / 'best').exists()
    assert (out / '.replaced-run' / 'best' / 'model.params').is_file()
    # a second --overwrite discards the unfinished run, and the whole run before it stays kept
    result = finetune(new, out, overwrite=True, should_stop=lambda progress: progress['step'] >= 1,
                      log=lambda m: None)
    assert (out / '.replaced-run' / 'best' / 'model.params').is_file()
    finetune(new, out, resume=True, log=lambda m: None)  # continued to its end: it has its best/
    assert (out / 'best' / 'model.params').is_file() and not (out / '.replaced-run').exists()
    code, _, err = run_cli(capsys, 'predict', '--model', out, '재밌어요')
    assert code == 0, err
