"""Outputs never land on a user's files, nor inside a folder the package owns.

The one rule for file outputs (``core.output_files``): an existing file is replaced only with ``--overwrite`` and
only if it is what the command writes (a predictions file, an ONNX export of this package), and nothing is written
inside a folder the package owns (a model, run, vocabulary, export folder) except by the command that holds it.
(What an interrupted ``--overwrite`` keeps: tests/test_run_folders.py.)

Runs on the shipped kobert-mini models and data the tests write.
"""
import shutil

import pytest

import kobert_gluon
from kobert_gluon.models.zoo import model_folder_of

from .conftest import copy_run, error_line, run_cli, tree, write_reviews

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


# ----- an input inside the output is refused before anything is touched -----------------------------------------
@pytest.mark.parametrize('model_arg', ['best', '.'])
def test_finetune_into_the_run_that_holds_its_model_is_refused_up_front(finished_run, tmp_path, capsys, model_arg):
    train, run = finished_run
    run = copy_run(run, tmp_path / 'run')
    before = tree(run)
    model = run / model_arg if model_arg != '.' else run  # the run folder itself means its best/
    code, _, err = run_cli(capsys, 'finetune', '--train', train, '--text-column', 'text', '--label-column', 'label',
                           '--dev-fraction', '0.2', '--max-steps', '4', '--batch-size', '8', '--max-seq-length', '32',
                           '--no-progress', '--model', model, '--out', run, '--overwrite', '--checkpoint-every', '2')
    assert code == 2 and 'would replace its own input' in error_line(err, 'finetune')
    assert tree(run) == before  # nothing moved, nothing trained


def test_a_run_folder_inside_its_model_and_a_resume_over_its_own_data_are_refused(finished_run, tmp_path, capsys):
    train, run = finished_run
    run = copy_run(run, tmp_path / 'run')
    before = tree(run)
    code, _, err = run_cli(capsys, 'finetune', '--train', train, '--text-column', 'text', '--label-column', 'label',
                           '--model', run / 'best', '--out', run / 'best' / 'again', '--no-progress')
    assert code == 2 and 'inside the input folder' in error_line(err, 'finetune')
    inside = run / 'train-copy.tsv'
    shutil.copyfile(train, inside)
    before = tree(run)
    code, _, err = run_cli(capsys, 'finetune', '--train', inside, '--out', run, '--resume', '--no-progress')
    assert code == 2 and 'would replace its own input' in error_line(err, 'finetune')
    assert tree(run) == before


@pytest.mark.parametrize('command', ['pretrain-model', 'pretrain-vocab', 'distill-teacher'])
def test_pretrain_and_distill_refuse_an_input_inside_their_run_folder(command, mini_pretraining_data, tmp_path,
                                                                      capsys):
    run = tmp_path / 'run'
    (run / 'best').parent.mkdir()
    shutil.copytree(model_folder_of('kobert-mini'), run / 'best')  # a model with its MLM head, inside the run
    (run / 'run.json').write_text('{}', encoding='utf-8')
    before = tree(run)
    data = ['--data', str(mini_pretraining_data.folder), '--out', str(run), '--overwrite', '--max-steps', '1',
            '--no-progress']
    args = {'pretrain-model': ['pretrain', '--model', run / 'best'],
            'pretrain-vocab': ['pretrain', '--from-scratch', '--vocab', run / 'best'],
            'distill-teacher': ['distill', '--teacher', run / 'best', '--student-layers', '1']}[command]
    code, _, err = run_cli(capsys, *args, *data)
    assert code == 2 and 'would replace its own input' in error_line(err, args[0])
    assert tree(run) == before


def test_export_onnx_never_writes_into_the_model_it_exports(finished_run, tmp_path, capsys):
    _, run = finished_run
    run = copy_run(run, tmp_path / 'run')
    before = tree(run)
    code, _, err = run_cli(capsys, 'export-onnx', '--model', run, '--out', run / 'best' / 'model.onnx')
    assert code == 2 and 'inside the input folder' in error_line(err, 'export-onnx')
    assert tree(run) == before


def test_import_hf_and_create_pretraining_data_never_write_into_what_they_read(tmp_path, capsys):
    exported = kobert_gluon.export_hf('kobert-mini-nsmc', tmp_path / 'hf')
    before = tree(exported)
    code, _, err = run_cli(capsys, 'import-hf', exported, '--out', exported / 'gluon')
    assert code == 2 and 'inside the input folder' in error_line(err, 'import-hf')
    vocab = tmp_path / 'vocab'
    shutil.copytree(model_folder_of('kobert-mini'), vocab)
    corpus = write_reviews(tmp_path / 'corpus.tsv')
    code, _, err = run_cli(capsys, 'create-pretraining-data', '--input', corpus, '--input-format', 'lines',
                           '--column', 'text', '--vocab', vocab, '--out', vocab / 'data')
    assert code == 2 and 'inside the input folder' in error_line(err, 'create-pretraining-data')
    assert tree(exported) == before and not (vocab / 'data').exists()
