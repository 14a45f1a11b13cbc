"""Damaged and unusable inputs end with one line and exit status 2 naming the file and the fix; bugs keep their
traceback; --debug shows it for anything. Runs on the models that ship in the package."""
import hashlib
import multiprocessing
import shutil
from pathlib import Path

import pytest

from kobert_gluon.hub import artifact_store
from kobert_gluon.hub.artifact_store import Artifact, ArtifactError, fetch
from kobert_gluon.cli import main
from kobert_gluon.core.errors import InputError
from kobert_gluon.models.zoo import model_folder_of

from .conftest import error_line, run_cli

SHIPPED = model_folder_of('kobert-mini-nsmc')




@pytest.fixture
def legacy_folder(tmp_path):
    """A copy of kobert-mini-nsmc as kobert-gluon 0.1 wrote it: no checksums, so damage reaches the loaders."""
    folder = tmp_path / 'model'
    shutil.copytree(SHIPPED, folder)
    (folder / 'kobert-gluon-folder.json').unlink()
    return folder


@pytest.mark.parametrize('damage, expected', [
    (lambda p: p.write_bytes(p.read_bytes()[:5000]), 'model.params: the file is damaged'),
    (lambda p: p.write_bytes(b''), 'model.params: the file is damaged'),
])
def test_damaged_weights_without_checksums_are_one_line(legacy_folder, capsys, damage, expected):
    damage(legacy_folder / 'model.params')
    code, _, err = run_cli(capsys, 'predict', '--model', legacy_folder, '좋아요')
    assert code == 2
    line = error_line(err, 'predict')
    assert 'cannot read the weights in {}'.format(legacy_folder / 'model.params') in line
    assert 'restore it' in line


def test_a_corrupt_tokenizer_model_is_one_line(legacy_folder, capsys):
    (legacy_folder / 'tokenizer.model').write_bytes(b'not a sentencepiece model' * 10)
    code, _, err = run_cli(capsys, 'predict', '--model', legacy_folder, '좋아요')
    assert code == 2
    assert 'tokenizer.model is not a usable SentencePiece model' in error_line(err, 'predict')
    from kobert_gluon import KoBERTTokenizer, get_model
    _, vocab = get_model(model_folder_of('kobert-mini'), pretrained=False)
    with pytest.raises(InputError, match='not a usable SentencePiece model'):
        KoBERTTokenizer(legacy_folder / 'tokenizer.model', vocab)


def test_a_config_without_its_model_section_is_one_line(legacy_folder, capsys):
    config = legacy_folder / 'config.json'
    config.write_text(config.read_text(encoding='utf-8').replace('"bert":', '"bort":'), encoding='utf-8')
    code, _, err = run_cli(capsys, 'predict', '--model', legacy_folder, '좋아요')
    assert code == 2 and "has no 'bert' section" in error_line(err, 'predict')


def test_a_damaged_file_of_a_checksummed_folder_is_named_before_loading(tmp_path, capsys):
    folder = tmp_path / 'model'
    shutil.copytree(SHIPPED, folder)
    (folder / 'tokenizer.model').write_bytes(b'garbage')
    code, _, err = run_cli(capsys, 'predict', '--model', folder, '좋아요')
    assert code == 2 and 'tokenizer.model has changed since it was written' in error_line(err, 'predict')


def test_pretrain_from_scratch_takes_a_shipped_architecture(tmp_path, capsys):
    corpus = tmp_path / 'corpus.txt'
    corpus.write_text('\n'.join('{}번 리뷰: 영화가 정말 좋았다. 배우의 연기도 훌륭했다.'.format(i) for i in range(60)) + '\n',
                      encoding='utf-8')
    data = tmp_path / 'data'
    assert main(['create-pretraining-data', '--input', str(corpus), '--input-format', 'lines', '--vocab',
                 'kobert-mini', '--max-seq-length', '32', '--dupe-factor', '1', '--out', str(data)]) == 0
    code, out, err = run_cli(capsys, 'pretrain', '--data', data, '--from-scratch', '--model', 'kobert-mini',
                         '--num-layers', '1', '--units', '32', '--hidden-size', '64', '--num-heads', '2',
                         '--max-steps', '2', '--batch-size', '4', '--dev-chunks', '0', '--no-progress',
                         '--out', tmp_path / 'run')
    assert code == 0, err
    assert 'model: {}'.format(tmp_path / 'run' / 'best') in out
    # --overwrite with a mistyped --model: refused before the finished run is touched
    before = {p: p.read_bytes() for p in sorted((tmp_path / 'run').rglob('*')) if p.is_file()}
    code, _, err = run_cli(capsys, 'pretrain', '--data', data, '--from-scratch', '--model', 'kobert-mnii',
                       '--max-steps', '2', '--dev-chunks', '0', '--no-progress', '--out', tmp_path / 'run',
                       '--overwrite')
    assert code == 2 and 'kobert-mnii' in error_line(err, 'pretrain')
    assert {p: p.read_bytes() for p in sorted((tmp_path / 'run').rglob('*')) if p.is_file()} == before


# ----- the policy -------------------------------------------------------------------------------------------
def test_a_bug_keeps_its_traceback_and_debug_shows_user_errors_too(monkeypatch, capsys):
    from kobert_gluon.cli import store

    def broken(args):
        raise ValueError('an unexpected ValueError from deep inside')
    monkeypatch.setattr(store, 'run_info', broken)
    with pytest.raises(ValueError, match='unexpected'):  # not turned into a usage error
        main(['info'])
    with pytest.raises(Exception, match='no such folder'):
        main(['--debug', 'predict', '--model', 'no/such/folder', 'x'])
    with pytest.raises(Exception, match='no such folder'):
        main(['predict', '--model', 'no/such/folder', 'x', '--debug'])
    assert run_cli(capsys, 'predict', '--model', 'no/such/folder', 'x')[0] == 2


# ----- the artifact store -----------------------------------------------------------------------------------
CONTENT = b'a file the store serves\n' * 100


@pytest.fixture
def served_artifact(tmp_path, monkeypatch):
    mirror = tmp_path / 'mirror'
    mirror.mkdir()
    (mirror / 'test-artifact.bin').write_bytes(CONTENT)
    artifact = Artifact('test-artifact.bin', 'md5', hashlib.md5(CONTENT).hexdigest(), description='a test file')
    monkeypatch.setitem(artifact_store.MANIFEST, artifact.name, artifact)
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', str(mirror))
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path / 'cache'))
    return artifact


def _fetch_in_child(_):
    return str(fetch('test-artifact.bin'))


def test_two_processes_meeting_one_corrupt_cached_file_do_not_race(served_artifact, tmp_path):
    cached = fetch(served_artifact.name)
    cached.write_bytes(b'damaged')
    context = multiprocessing.get_context('fork')  # the children inherit the test's manifest entry
    with context.Pool(4) as pool:
        paths = pool.map(_fetch_in_child, range(4))
    assert set(paths) == {str(cached)} and cached.read_bytes() == CONTENT
    aside = [p.name for p in cached.parent.iterdir() if '.corrupt-' in p.name]
    assert len(aside) == 1  # moved aside once, fetched once
    assert not [p for p in cached.parent.iterdir() if p.name.endswith(('.lock', '.part'))]


def test_a_read_only_cache_with_a_corrupt_file_names_the_cause(served_artifact, monkeypatch, capsys):
    cached = fetch(served_artifact.name)
    cached.write_bytes(b'damaged')
    real_access = artifact_store.os.access
    # tests run as root, whom chmod does not stop: make the cache folder read-only as the store sees it
    monkeypatch.setattr(artifact_store.os, 'access',
                        lambda path, mode: False if Path(path) == cached.parent else real_access(path, mode))
    with pytest.raises(ArtifactError) as raised:
        fetch(served_artifact.name)
    headline = str(raised.value).splitlines()[0]
    assert 'is damaged and cannot be replaced' in headline and 'not writable' in headline
    assert 'KOBERT_GLUON_HOME' in headline
    code, _, err = run_cli(capsys, 'fetch', served_artifact.name)
    assert code == 2 and 'not writable' in error_line(err, 'fetch')


# ----- messages that pointed the wrong way -------------------------------------------------------------------------
def test_distill_names_the_missing_masked_lm_head(mini_pretraining_data, tmp_path, capsys):
    code, _, err = run_cli(capsys, 'distill', '--teacher', 'kobert-mini-nsmc', '--student-layers', '1', '--data',
                           mini_pretraining_data.folder, '--out', tmp_path / 'run', '--no-progress')
    line = error_line(err, 'distill')
    assert code == 2 and 'no masked-LM head' in line and 'use_decoder=False' not in line
    assert not (tmp_path / 'run').exists()


def test_a_missing_mecab_dictionary_is_named_not_bannered(monkeypatch):
    mecab_ko = pytest.importorskip('mecab_ko')
    banner = ('\n----------------------------------------------------------\n\nFailed initializing MeCab. Please see the '
              'README for possible solutions:\n\n------------------- ERROR DETAILS ------------------------\n'
              'arguments: \n[ifs] no such file or directory: /nowhere/dicrc\n'
              '----------------------------------------------------------\n')

    def failing_tagger(*args, **kwargs):
        raise RuntimeError(banner)
    monkeypatch.setattr(mecab_ko, 'Tagger', failing_tagger)
    from kobert_gluon.tokenizers.mecab import mecab_tagger
    with pytest.raises(InputError) as caught:
        mecab_tagger('--pre-tokenize mecab')
    message = str(caught.value)
    assert '[ifs] no such file or directory: /nowhere/dicrc' in message and '---' not in message
    assert '\n' not in message
