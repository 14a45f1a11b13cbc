"""The ``kobert-gluon`` command, called the way a user types it."""
import shutil
import subprocess
import sys

import mxnet as mx
import pytest

from kobert_gluon import KoBERTTokenizer, save_model
from kobert_gluon.hub import artifact_store
from kobert_gluon.cli import main

from .conftest import REPO, random_kobert, shipped_tokenizer_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_lists_models_and_file_states(kobert_store, capsys):
    artifact_store.fetch('tokenizer_78b3253a26.model')
    code, out, _ = run(capsys, 'info')
    assert code == 0
    assert 'kobert-base' in out
    assert str(artifact_store.cache_root()) in out
    lines = {line.split()[1]: line.split()[0] for line in out.splitlines() if line.startswith('  ') and
             len(line.split()) > 2 and line.split()[0] in ('verified', 'missing', 'corrupt')}
    assert lines['tokenizer_78b3253a26.model'] == 'verified'
    assert lines['mxnet_kobert_45b6957552.params'] == 'missing'


def test_fetch_from_folder_then_missing_weights(kobert_store, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv('KOBERT_GLUON_MIRROR')
    code, out, _ = run(capsys, 'fetch', 'tokenizer_78b3253a26.model', 'kobertvocab_f38b8a4d6d.json',
                       '--from', str(kobert_store), '--cachedir', str(tmp_path / 'c'))
    assert code == 0 and out.count('verified') == 2
    assert (tmp_path / 'c' / 'kobertvocab_f38b8a4d6d.json').is_file()
    code, _, err = run(capsys, 'fetch', 'mxnet_kobert_45b6957552.params', '--from', str(kobert_store))
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith('kobert-gluon fetch: error: cannot get mxnet_kobert_45b6957552.params')
    assert 'put the file at' in err


def test_fetch_rejects_bad_input(capsys, tmp_path):
    code, _, err = run(capsys, 'fetch', 'weights.bin')
    assert code == 2 and 'unknown file(s) weights.bin' in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, 'fetch', '--from', str(tmp_path / 'nope'))
    assert code == 2 and 'no such folder' in err


def test_tokenize_prints_pieces_and_original_ids(kobert_files, capsys):
    code, out, _ = run(capsys, 'tokenize', '한국어 모델을 공유합니다.')
    assert code == 0
    assert out.splitlines() == ['pieces: ▁한국 어 ▁모델 을 ▁공유 합니다 ▁ .',
                                'ids: 2 4958 6855 2046 7088 1050 7843 517 54 3']
    code, out, _ = run(capsys, 'tokenize', '--max-seq-length', '4', '한국어 모델을 공유합니다.')
    assert out.splitlines()[1] == 'ids: 2 4958 6855 3'


def test_tokenize_with_the_shipped_model(capsys):
    # kobert-mini's own SentencePiece model (it ships in the package) segments the same sentence its own way
    code, out, _ = run(capsys, 'tokenize', '--model', 'kobert-mini', '한국어 모델을 공유합니다.')
    assert code == 0
    assert out.splitlines() == ['pieces: ▁한국 어 ▁ 모델 을 ▁공유 합니다 ▁.',
                                'ids: 2 4665 6699 230 5975 6965 618 7835 235 3']
    code, out, _ = run(capsys, 'tokenize', '--model', 'kobert-mini', '--max-seq-length', '4', '한국어 모델을 공유합니다.')
    assert out.splitlines()[1] == 'ids: 2 4665 6699 3'


def test_encode_with_a_saved_model_folder(tmp_path, capsys):
    model, vocab = random_kobert(use_decoder=False, use_classifier=False, num_layers=1, units=32, hidden_size=64,
                                 num_heads=2, max_length=32)
    encoded = KoBERTTokenizer(shipped_tokenizer_path(), vocab).encode('한국어 모델을 공유합니다.', pad=False)
    ids = mx.nd.array(encoded.input_ids[None, :])
    _, pooled = model(ids, mx.nd.zeros_like(ids), mx.nd.array([int(encoded.valid_length)]))
    folder = save_model(model, vocab, tmp_path / 'm', shipped_tokenizer_path())
    code, out, _ = run(capsys, 'encode', '--model', str(folder), '한국어 모델을 공유합니다.')
    assert code == 0
    assert 'sentence vector (pooler): (1, 32)' in out and 'tokens: {}'.format(int(encoded.valid_length)) in out
    printed = [float(v) for v in out.splitlines()[-1].split(':')[1].split()]
    assert printed == pytest.approx(pooled.asnumpy()[0, :8].tolist(), abs=1e-4)


def test_encode_without_weights_names_the_file(kobert_store, capsys):
    code, _, err = run(capsys, 'encode', '안녕하세요')
    assert code == 2
    assert 'mxnet_kobert_45b6957552.params' in err.splitlines()[0]


def test_bad_arguments(capsys):
    code, _, err = run(capsys, 'tokenize', '--max-seq-length', '1', '안녕')
    assert code == 2 and err.strip() == ('kobert-gluon tokenize: error: --max-seq-length must be a whole number >= 3 '
                                         '(room for [CLS], [SEP] and the text), got 1')
    code, _, err = run(capsys, 'encode', '--model', 'kobert-xl', '안녕')
    assert code == 2 and 'unknown model' in err
    with pytest.raises(SystemExit) as exit_info:
        main(['no-such-command'])
    assert exit_info.value.code == 2


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, '-m', 'kobert_gluon', '--version'], cwd=str(REPO),
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith('kobert-gluon ')


@pytest.mark.skipif(shutil.which('kobert-gluon') is None, reason='console script not installed (pip install .)')
def test_console_script_installed():
    result = subprocess.run(['kobert-gluon', 'info'], capture_output=True, text=True)
    assert result.returncode == 0 and 'kobert-base' in result.stdout
