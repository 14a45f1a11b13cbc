"""What the package does with folders it writes, tried the way a careless user (or a crash) would:
--overwrite with a typo, someone else's files, two runs at once, kill -9, Ctrl-C, files changed on disk. The one rule
for runs (``training.run_folder``): the replaced run stays whole until the new run has a ``best/``, and every command
that meets a folder left half-way says so and names ``kobert-gluon restore-run``.

Everything here runs on the model that ships in the package (kobert-mini) and data the tests write.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from kobert_gluon.cli import main
from kobert_gluon.core.locks import LOCK_FILE, exclusive_lock

from .conftest import POSITIVE, REPO, copy_run, error_line, finetune_args, run_cli, tree, write_reviews


# ----- --overwrite ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('mistake', ['train', 'model'])
def test_overwrite_with_a_typo_keeps_the_previous_run(finished_run, tmp_path, capsys, mistake):
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    before = tree(out)
    args = finetune_args(train, out, '--overwrite', '--lr', '1e-3')
    if mistake == 'train':
        args[args.index('--train') + 1] = str(tmp_path / 'trian.tsv')
    else:
        args[args.index('--model') + 1] = 'kobert-mnii'
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    error_line(err, 'finetune')
    assert tree(out) == before  # the best model, run.json and checkpoint are all still there, unchanged


def test_overwrite_refuses_a_folder_with_files_it_did_not_write(finished_run, tmp_path, capsys):
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    (out / 'my_notes.txt').write_text('results I wrote by hand', encoding='utf-8')
    before = tree(out)
    code, _, err = run_cli(capsys, *finetune_args(train, out, '--overwrite'))
    assert code == 2
    line = error_line(err, 'finetune')
    assert 'my_notes.txt' in line and 'never removes them' in line
    assert tree(out) == before


def test_a_run_json_alone_does_not_make_a_folder_a_run(tmp_path, capsys):
    """0.1 took any folder with a run.json for its own; a marker of another kind, or foreign files, stop it."""
    train = write_reviews(tmp_path / 'train.tsv')
    out = tmp_path / 'project'
    out.mkdir()
    (out / 'run.json').write_text('{"settings": {}}', encoding='utf-8')
    (out / 'train_copy.tsv').write_text('keep', encoding='utf-8')
    code, _, err = run_cli(capsys, *finetune_args(train, out, '--overwrite'))
    assert code == 2 and 'train_copy.tsv' in error_line(err, 'finetune')
    assert (out / 'train_copy.tsv').read_text(encoding='utf-8') == 'keep'


def test_overwrite_refuses_a_folder_of_another_kind(tmp_path, capsys):
    corpus = tmp_path / 'corpus.txt'
    corpus.write_text('\n'.join('{} 번째 문장입니다. 영화가 {}'.format(i, POSITIVE[i % 5]) for i in range(300)) + '\n',
                      encoding='utf-8')
    vocab = tmp_path / 'vocab'
    assert main(['build-vocab', '--corpus', str(corpus), '--size', '60', '--out', str(vocab), '--threads', '1']) == 0
    before = tree(vocab)
    train = write_reviews(tmp_path / 'train.tsv')
    code, _, err = run_cli(capsys, *finetune_args(train, vocab, '--overwrite'))
    assert code == 2
    assert 'is a vocabulary folder, not a run folder' in error_line(err, 'finetune')
    assert tree(vocab) == before


def test_build_vocab_overwrite_never_replaces_its_own_input(tmp_path, capsys):
    out = tmp_path / 'vocab'
    out.mkdir()
    corpus = out / 'corpus.txt'
    corpus.write_text('\n'.join('{} 번째 문장입니다'.format(i) for i in range(300)) + '\n', encoding='utf-8')
    code, _, err = run_cli(capsys, *['build-vocab', '--corpus', corpus, '--size', '100', '--out', out, '--overwrite'])
    assert code == 2
    assert 'would replace its own input' in error_line(err, 'build-vocab')
    assert corpus.is_file()


def test_create_pretraining_data_overwrite_keeps_user_files(tmp_path, capsys):
    corpus = tmp_path / 'corpus.txt'
    corpus.write_text('\n'.join('{}. 영화가 {}'.format(i, POSITIVE[i % 5]) for i in range(60)) + '\n', encoding='utf-8')
    out = tmp_path / 'data'
    out.mkdir()
    (out / 'README.txt').write_text('my data notes', encoding='utf-8')
    code, _, err = run_cli(capsys, *['create-pretraining-data', '--input', corpus, '--input-format', 'lines', '--vocab',
                                'kobert-mini', '--max-seq-length', '32', '--out', out, '--overwrite'])
    assert code == 2
    assert 'was not written by kobert-gluon' in error_line(err, 'create-pretraining-data')
    assert (out / 'README.txt').read_text(encoding='utf-8') == 'my data notes'
    # its own folder is replaced, and the result is verified like every write-once folder
    (out / 'README.txt').unlink()
    args = ['create-pretraining-data', '--input', corpus, '--input-format', 'lines', '--vocab', 'kobert-mini',
            '--max-seq-length', '32', '--dupe-factor', '1', '--out', out]
    assert main([str(a) for a in args]) == 0
    assert main([str(a) for a in args] + ['--overwrite']) == 0
    capsys.readouterr()
    assert run_cli(capsys, *['verify', out])[0] == 0


def test_a_replacing_run_stopped_before_its_first_checkpoint_gives_the_previous_run_back(finished_run, tmp_path):
    from kobert_gluon.tasks.finetuning import FinetuneSettings, finetune
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    old_best, old_tree = (out / 'best' / 'model.params').read_bytes(), tree(out)
    settings = json.loads((out / 'run.json').read_text(encoding='utf-8'))['settings']
    new = FinetuneSettings.from_dict(dict(settings, training=dict(settings['training'], learning_rate=1e-3)))
    # the new run stops after one step, before its first checkpoint (written at the epoch's end): nothing of it can
    # be continued, so the previous run comes back at once
    result = finetune(new, out, overwrite=True, should_stop=lambda progress: progress['step'] >= 1, log=lambda m: None)
    assert result.interrupted and result.history['steps'] and not (out / '.replaced-run').exists()
    assert tree(out) == old_tree and (out / 'best' / 'model.params').read_bytes() == old_best
    # a replacing run that finishes (it has its own best/) no longer needs the old one
    finetune(new, out, overwrite=True, log=lambda m: None)
    assert not (out / '.replaced-run').exists()
    assert json.loads((out / 'run.json').read_text())['settings']['training']['learning_rate'] == 1e-3


# ----- locks ------------------------------------------------------------------------------------------------
def test_a_second_run_into_a_locked_folder_is_refused_naming_the_holder(finished_run, tmp_path, capsys):
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    before = tree(out)
    with exclusive_lock(out / LOCK_FILE, 'run folder {}'.format(out), remove=True):
        code, _, err = run_cli(capsys, *finetune_args(train, out, '--overwrite'))
        assert code == 2
        line = error_line(err, 'finetune')
        assert 'is in use by process {}'.format(os.getpid()) in line
        code, _, err = run_cli(capsys, *finetune_args(train, out, '--resume'))
        assert code == 2 and 'is in use by process' in error_line(err, 'finetune')
    after = tree(out)
    assert after == before


def test_a_lock_left_by_a_killed_process_does_not_block(finished_run, tmp_path, capsys):
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    holder = subprocess.Popen([sys.executable, '-c', 'import sys, time\n'
                               'from kobert_gluon.core.locks import exclusive_lock\n'
                               'with exclusive_lock(sys.argv[1], "run"):\n'
                               '    print("held", flush=True); time.sleep(600)\n', str(out / LOCK_FILE)],
                              stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert holder.stdout.readline().strip() == b'held'
    code, _, err = run_cli(capsys, *finetune_args(train, out, '--overwrite'))
    assert code == 2 and 'process {}'.format(holder.pid) in err
    holder.kill()
    holder.wait()
    assert (out / LOCK_FILE).exists()  # the file stays behind, the lock does not
    code, _, err = run_cli(capsys, *finetune_args(train, out, '--overwrite'))
    assert code == 0, err


def test_entry_locks_of_killed_processes_are_cleared_and_held_ones_kept(tmp_path):
    """A run killed while writing its checkpoint leaves .checkpoint.lock; the clean-up a run or restore-run does
    removes such a lock file, but never one a live process holds."""
    from kobert_gluon.core.owned_folders import remove_stale_temporaries
    (tmp_path / '.checkpoint.lock').write_text('{"pid": 1}')  # no process holds it
    holder = subprocess.Popen([sys.executable, '-c', 'import sys, time\n'
                               'from kobert_gluon.core.locks import exclusive_lock\n'
                               'with exclusive_lock(sys.argv[1], "best"):\n'
                               '    print("held", flush=True); time.sleep(600)\n', str(tmp_path / '.best.lock')],
                              stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        assert holder.stdout.readline().strip() == b'held'
        assert remove_stale_temporaries(tmp_path) == ['.checkpoint.lock']
        assert sorted(p.name for p in tmp_path.iterdir()) == ['.best.lock']
    finally:
        holder.kill()
        holder.wait()
    assert remove_stale_temporaries(tmp_path) == ['.best.lock']  # its holder is gone now


# ----- temporary files, Ctrl-C ------------------------------------------------------------------------------
def test_stale_temporary_files_of_a_killed_write_are_removed(finished_run, tmp_path, capsys):
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    (out / '.checkpoint.tmp-x1y2').mkdir()
    (out / '.checkpoint.tmp-x1y2' / 'params.params').write_bytes(b'\0' * 1000)
    (out / '.metrics.json.abc123.tmp').write_text('{')
    code, _, err = run_cli(capsys, *finetune_args(train, out, '--overwrite'))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir() if p.name.startswith('.')) == []


def cli(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    return subprocess.Popen([sys.executable, '-m', 'kobert_gluon'] + [str(a) for a in args], env=env,
                            cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_ctrl_c_writes_a_checkpoint_that_resumes(tmp_path):
    train = write_reviews(tmp_path / 'train.tsv', rows=400)
    out = tmp_path / 'run'
    args = finetune_args(train, out, '--epochs', '2', '--log-every', '1', '--num-workers', '1')
    process = cli(*args)
    line = ''
    deadline = time.time() + 120
    while 'step 3/' not in line and time.time() < deadline:  # a few steps into the first epoch
        line = process.stderr.readline()
        assert line or process.poll() is None, 'the run ended early'
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert 'stopped at step' in err and '--resume' in err and 'Traceback' not in err
    state = json.loads((out / 'checkpoint' / 'state.json').read_text(encoding='utf-8'))
    assert state['progress']['epoch'] == 0 and state['progress']['step'] >= 3
    resumed = cli('finetune', '--resume', '--out', out, '--no-progress')
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert 'resumed at epoch 1, batch {}'.format(state['progress']['batch']) in err
    history = json.loads((out / 'metrics.json').read_text(encoding='utf-8'))
    assert [epoch['epoch'] for epoch in history['epochs']] == [1, 2]


# ----- integrity ------------------------------------------------------------------------------------------------
def test_a_damaged_weight_file_is_refused_and_verify_names_it(finished_run, tmp_path, capsys):
    _, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    params = out / 'best' / 'model.params'
    data = bytearray(params.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):  # a few flipped bytes in the middle of the weights
        data[i] ^= 0xFF
    params.write_bytes(bytes(data))
    code, _, err = run_cli(capsys, *['predict', '--model', out, '정말 재밌어요'])
    assert code == 2
    line = error_line(err, 'predict')
    assert 'model.params has changed since it was written' in line and 'kobert-gluon verify' in line
    code, stdout, _ = run_cli(capsys, *['verify', out / 'best'])
    assert code == 1 and 'model.params: changed' in stdout
    # accepting the change on purpose: record, then it loads (and verifies) again
    assert run_cli(capsys, *['verify', out / 'best', '--record'])[0] == 0
    assert run_cli(capsys, *['predict', '--model', out, '정말 재밌어요'])[0] == 0


def test_a_damaged_checkpoint_is_refused_on_resume(finished_run, tmp_path, capsys):
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    states = out / 'checkpoint' / 'optimizer.states'
    states.write_bytes(states.read_bytes()[:100])  # truncated, as by a full disk
    code, _, err = run_cli(capsys, *finetune_args(train, out, '--resume'))
    assert code == 2 and 'optimizer.states has changed since it was written' in error_line(err, 'finetune')


def test_a_pickled_checkpoint_of_the_first_release_is_refused_clearly(finished_run, tmp_path, capsys):
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    import shutil
    shutil.rmtree(out / 'checkpoint')
    (out / 'checkpoint.pkl').write_bytes(b'\x80\x04truncated')
    code, _, err = run_cli(capsys, *['finetune', '--resume', '--out', out])
    assert code == 2
    assert 'does not load pickles' in error_line(err, 'finetune')


def test_resume_refuses_a_training_file_edited_in_place(finished_run, tmp_path, capsys):
    train, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    original = train.read_text(encoding='utf-8')
    lines = original.splitlines()
    text, label = lines[7].split('\t')
    lines[7] = '바뀐 문장\t' + label  # one text edited in place: same rows, same lengths order, other contents
    edited = tmp_path / 'train.tsv'
    edited.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    settings = json.loads((out / 'run.json').read_text(encoding='utf-8'))
    settings['settings']['train'] = str(edited)  # the run now reads the edited copy
    (out / 'run.json').write_text(json.dumps(settings), encoding='utf-8')
    code, _, err = run_cli(capsys, *['finetune', '--resume', '--out', out, '--no-progress'])
    assert code == 2, err
    assert 'differ from what' in error_line(err, 'finetune')
    edited.write_text(original, encoding='utf-8')  # the same contents again: resuming is fine
    code, _, err = run_cli(capsys, *['finetune', '--resume', '--out', out, '--no-progress'])
    assert code == 0, err


def test_resume_refuses_other_settings_and_takes_result_neutral_ones(finished_run, tmp_path, capsys):
    """One rule for every training run (run_folder.check_resumed_settings): an option that changes the result is
    refused on --resume, naming each difference; one that does not (logging, progress) is taken."""
    _, source = finished_run
    out = copy_run(source, tmp_path / 'run')
    before = tree(out)
    saved = json.loads((out / 'run.json').read_text(encoding='utf-8'))['settings']
    code, _, err = run_cli(capsys, *['finetune', '--resume', '--out', out, '--no-progress', '--batch-size', '3',
                                     '--lr', '0.5'])
    assert code == 2, err
    line = error_line(err, 'finetune')
    assert 'cannot resume' in line and 'batch_size: {} -> 3'.format(saved['batch_size']) in line
    assert 'training.learning_rate: {!r} -> 0.5'.format(saved['training']['learning_rate']) in line
    assert tree(out) == before  # refused before anything was written
    code, _, err = run_cli(capsys, *['finetune', '--resume', '--out', out, '--no-progress', '--log-every', '1'])
    assert code == 0, err


# ----- an interrupted --overwrite ----------------------------------------------------------------------------------
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
    process = cli(*finetune_args(train, out, '--overwrite', '--epochs', '2', '--log-every', '1',
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
