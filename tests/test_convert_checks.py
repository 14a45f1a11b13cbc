"""import-hf and export-hf as a careless or hostile user meets them: no guessed tokenizer, round trips that keep
predictions, imported taggers with IO labels, malformed transformers checkpoints as one line, run folders and
export folders where a model is expected. Runs on the shipped models, models transformers itself creates and files
the tests write."""
import json
import os
import shutil
import stat
import warnings

import numpy as np
import pytest

import kobert_gluon

from .conftest import LONG_REVIEW, README_REVIEWS, error_line, run_cli


# ----- import-hf: no guessed tokenizer; round trips keep predictions ---------------------------------------------
def _hf_export_without_tokenizer(tmp_path):
    folder = kobert_gluon.export_hf('kobert-mini-nsmc', tmp_path / 'hf')
    bare = tmp_path / 'bare'
    bare.mkdir()
    for name in ('config.json', 'model.safetensors'):
        shutil.copyfile(folder / name, bare / name)
    return bare


def test_import_hf_never_guesses_a_tokenizer_from_the_vocabulary_size(tmp_path, capsys):
    bare = _hf_export_without_tokenizer(tmp_path)  # 8,002 rows, like KoBERT, but kobert-mini's pieces
    code, _, err = run_cli(capsys, 'import-hf', bare, '--out', tmp_path / 'guessed')
    line = error_line(err, 'import-hf')
    assert code == 2 and 'no tokenizer files' in line and '--tokenizer' in line
    assert not (tmp_path / 'guessed').exists()
    code, _, _ = run_cli(capsys, 'import-hf', bare, '--out', tmp_path / 'named', '--tokenizer', 'kobert-mini-nsmc')
    assert code == 0
    code, out, _ = run_cli(capsys, 'predict', '--model', tmp_path / 'named', *README_REVIEWS)
    assert code == 0 and [row.split('\t')[1] for row in out.splitlines()[1:]] == ['positive', 'negative']


def test_export_then_import_predicts_exactly_as_before(finished_run, tmp_path, capsys):
    _, run = finished_run
    exported = kobert_gluon.export_hf(run, tmp_path / 'hf')  # a run folder means its best/
    assert json.loads((exported / 'tokenizer_config.json').read_text())['model_max_length'] == 32
    back = kobert_gluon.import_hf(exported, tmp_path / 'back')
    assert json.loads((back / 'config.json').read_text())['finetuning']['max_seq_length'] == 32
    texts = README_REVIEWS + [LONG_REVIEW]
    original = kobert_gluon.FineTunedModel.load(run).predict(texts)
    again = kobert_gluon.FineTunedModel.load(back).predict(texts)
    np.testing.assert_allclose(again, original, atol=1e-6)


def test_evaluate_task_reads_its_own_labels_for_a_round_tripped_model(tmp_path, capsys):
    pytest.importorskip('transformers')
    back = kobert_gluon.import_hf(kobert_gluon.export_hf('kobert-mini-nsmc', tmp_path / 'hf'), tmp_path / 'back')
    reviews = tmp_path / 'nsmc.tsv'
    reviews.write_text('id\tdocument\tlabel\n1\t{}\t1\n2\t{}\t0\n'.format(*README_REVIEWS), encoding='utf-8')
    code, out, err = run_cli(capsys, 'evaluate', '--model', back, '--task', 'nsmc', '--data', reviews)
    assert code == 0, err
    assert 'accuracy\t1.0000' in out


def test_files_of_an_export_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        folder = kobert_gluon.export_hf('kobert-mini', tmp_path / 'hf')
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert set(modes.values()) == {0o644}, modes


# ----- token classifiers with IO labels ---------------------------------------------------------------------------
def test_io_labels_decode_runs_of_a_type_as_one_entity():
    from kobert_gluon.tasks.tagging import Entity, decode_entities
    from kobert_gluon.tokenizers.offsets import PieceSpan
    spans = [PieceSpan('▁홍길', 0, 2), PieceSpan('동', 2, 3), PieceSpan('▁서울', 4, 6), PieceSpan('▁가다', 7, 9)]
    labels = ['O', 'PER', 'LOC']
    assert decode_entities('홍길동 서울 가다', spans, [1, 1, 2, 0], labels) == [Entity(0, 3, 'PER'), Entity(4, 6, 'LOC')]
    bio = ['O', 'B-PER', 'I-PER']
    assert decode_entities('홍길동 서울 가다', spans, [1, 2, 1, 0], bio) == [Entity(0, 3, 'PER'), Entity(4, 6, 'PER')]


def _token_classifier(tmp_path, id2label, winner):
    torch = pytest.importorskip('torch')
    transformers = pytest.importorskip('transformers')
    from .family_checks import BERT, with_tokenizer_files
    transformers.logging.set_verbosity_error()
    config = transformers.BertConfig(**BERT.small, num_labels=len(id2label), id2label=id2label,
                                     label2id={v: k for k, v in id2label.items()})
    model = transformers.BertForTokenClassification(config).eval()
    with torch.no_grad():  # every piece gets the label `winner`
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([5.0 if i == winner else 0.0 for i in range(len(id2label))]))
    folder = tmp_path / 'hf-tagger'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model.save_pretrained(folder)
    with_tokenizer_files(folder)
    return folder


def test_an_imported_io_tagger_predicts_whole_entities_and_bioes_is_refused(tmp_path, capsys):
    folder = _token_classifier(tmp_path, {0: 'O', 1: 'PER', 2: 'LOC'}, winner=1)
    tagger = kobert_gluon.FineTunedModel.load(kobert_gluon.import_hf(folder, tmp_path / 'io'))
    [entities], _ = tagger.predict_entities(['홍길동 씨'])
    assert [e.label for e in entities] == ['PER'] and (entities[0].start, entities[0].end) == (0, 5)
    bioes = _token_classifier(tmp_path / 'bioes', {0: 'O', 1: 'S-PER', 2: 'B-PER', 3: 'E-PER'}, winner=1)
    code, _, err = run_cli(capsys, 'import-hf', bioes, '--out', tmp_path / 'bioes-out')
    assert code == 2 and 'S-PER' in error_line(err, 'import-hf')


# ----- transformers checkpoints: malformed files are one line ------------------------------------------------------
def _exported(tmp_path):
    return kobert_gluon.export_hf('kobert-mini-nsmc', tmp_path / 'hf')  # a BertForSequenceClassification


def _set_config(folder, change):
    config = json.loads((folder / 'config.json').read_text())
    change(config)
    (folder / 'config.json').write_text(json.dumps(config))


BAD_CHECKPOINTS = {
    'empty safetensors': (lambda f: (f / 'model.safetensors').write_bytes(b''), 'cannot be read as weights'),
    'truncated safetensors': (lambda f: (f / 'model.safetensors').write_bytes(
        (f / 'model.safetensors').read_bytes()[:4000]), 'cannot be read as weights'),
    'random safetensors': (lambda f: (f / 'model.safetensors').write_bytes(os.urandom(5000)),
                           'cannot be read as weights'),
    'config is a list': (lambda f: (f / 'config.json').write_text('[1, 2]'), 'must hold a JSON object'),
    'config lacks vocab_size': (lambda f: _set_config(f, lambda c: c.pop('vocab_size')), 'lacks "vocab_size"'),
    'architectures is a string': (lambda f: _set_config(f, lambda c: c.update(architectures='BertModel')),
                                  '"architectures" must be a list'),
    'id2label keys are names': (lambda f: _set_config(f, lambda c: c.update(
        id2label={'neg': 'negative', 'pos': 'positive'})), 'must be integer ids'),
    'index without weight_map': (lambda f: ((f / 'model.safetensors').rename(f / 'model-00001-of-00001.safetensors'),
                                            (f / 'model.safetensors.index.json').write_text('{"metadata": {}}')),
                                 '"weight_map" must be'),
}


@pytest.mark.parametrize('case', sorted(BAD_CHECKPOINTS))
def test_malformed_checkpoints_are_one_line(case, tmp_path, capsys):
    damage, expected = BAD_CHECKPOINTS[case]
    folder = _exported(tmp_path)
    damage(folder)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'out')
    assert code == 2 and expected in error_line(err, 'import-hf')
    assert not (tmp_path / 'out').exists()


def test_a_mistyped_local_path_says_there_is_no_such_folder(tmp_path, capsys):
    code, _, err = run_cli(capsys, 'import-hf', 'runs/no-such-export', '--out', tmp_path / 'out')
    line = error_line(err, 'import-hf')
    assert code == 2 and line.split('error: ')[1].startswith('runs/no-such-export: no such local folder; as a hub repo id')


# ----- run folders and export folders where a model is expected ----------------------------------------------------
def test_export_commands_take_a_run_folder_as_predict_does(finished_run, tmp_path, capsys):
    _, run = finished_run
    code, _, err = run_cli(capsys, 'export-hf', run, '--out', tmp_path / 'hf')
    assert code == 0, err
    pytest.importorskip('onnx')
    code, _, err = run_cli(capsys, 'export-onnx', '--model', run, '--out', tmp_path / 'model.onnx')
    assert code == 0, err


def test_verify_checks_an_export_folder_and_names_what_a_run_folder_holds(finished_run, tmp_path, capsys):
    _, run = finished_run
    exported = kobert_gluon.export_hf('kobert-mini', tmp_path / 'hf')
    code, out, _ = run_cli(capsys, 'verify', exported)
    assert code == 0 and 'all 5 files intact' in out
    with open(exported / 'vocab.txt', 'a', encoding='utf-8') as stream:
        stream.write('extra\n')
    code, out, _ = run_cli(capsys, 'verify', exported)
    assert code == 1 and 'vocab.txt: changed' in out
    code, _, err = run_cli(capsys, 'verify', run)
    line = error_line(err, 'verify')
    assert code == 2 and str(run / 'best') in line and str(run / 'checkpoint') in line
