"""Reliability, round 3: the surfaces added after the first round (import-hf / export-hf, distill, NER and QA files,
the deploy runtimes and their cache, the Python API), tried the way a careless or hostile user would. Each test is a
case that lost a model, answered wrong with exit 0, ended in a traceback or misled, and now behaves.

Everything runs on kobert-mini / kobert-mini-nsmc (shipped in the package), models transformers itself creates, and
files the tests write.
"""
import json
import os
import shutil
import stat
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import kobert_gluon
from kobert_gluon.core.errors import InputError
from kobert_gluon.models.zoo import model_folder_of

from .conftest import error_line, run_cli
from .test_reliability_folders import copy_run, finished_run, tree, write_reviews  # noqa: F401

README_REVIEWS = ['이 영화 정말 재밌어요', '최악의 영화']
LONG_REVIEW = '정말 재밌는 영화였어요 배우들의 연기가 좋았고 ' * 20 + '그런데 결말은 최악이었어요'


tiny_run = finished_run  # a finished tiny run with --max-seq-length 32 (pos/neg reviews)


# ----- 1. an input inside the output is refused before anything is touched -----------------------------------------
@pytest.mark.parametrize('model_arg', ['best', '.'])
def test_finetune_into_the_run_that_holds_its_model_is_refused_up_front(tiny_run, tmp_path, capsys, model_arg):
    train, run = tiny_run
    run = copy_run(run, tmp_path / 'run')
    before = tree(run)
    model = run / model_arg if model_arg != '.' else run  # the run folder itself means its best/
    code, _, err = run_cli(capsys, 'finetune', '--train', train, '--text-column', 'text', '--label-column', 'label',
                           '--dev-fraction', '0.2', '--max-steps', '4', '--batch-size', '8', '--max-seq-length', '32',
                           '--no-progress', '--model', model, '--out', run, '--overwrite', '--checkpoint-every', '2')
    assert code == 2 and 'would replace its own input' in error_line(err, 'finetune')
    assert tree(run) == before  # nothing moved, nothing trained


def test_a_run_folder_inside_its_model_and_a_resume_over_its_own_data_are_refused(tiny_run, tmp_path, capsys):
    train, run = tiny_run
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


@pytest.fixture(scope='module')
def mini_pretraining_data(tmp_path_factory):
    """Pretraining shards of 60 reviews in kobert-mini's vocabulary."""
    from kobert_gluon import InstanceOptions, TextSource, create_pretraining_data, load_tokenizer
    folder = tmp_path_factory.mktemp('round3-pretraining')
    reviews = write_reviews(folder / 'reviews.tsv', rows=60)
    return create_pretraining_data(TextSource([reviews], column='text'), folder / 'data', load_tokenizer('kobert-mini'),
                                   input_format='lines', options=InstanceOptions(max_seq_length=32, dupe_factor=1))


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


def test_export_onnx_never_writes_into_the_model_it_exports(tiny_run, tmp_path, capsys):
    _, run = tiny_run
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


# ----- 2. verified caches --------------------------------------------------------------------------------------------
def _cached_entries(cache: Path):
    return sorted((cache / 'onnx').glob('*/model.onnx'))


def test_a_damaged_onnx_cache_entry_is_moved_aside_and_rebuilt(tmp_path, monkeypatch, caplog):
    pytest.importorskip('onnxruntime')
    from kobert_gluon.deploy.predictor import load_predictor
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path / 'cache'))
    reference = kobert_gluon.FineTunedModel.load('kobert-mini-nsmc').predict(README_REVIEWS)
    first = load_predictor('kobert-mini-nsmc', runtime='onnxruntime').predict(README_REVIEWS)
    np.testing.assert_allclose(first, reference, atol=1e-4)
    [entry] = _cached_entries(tmp_path / 'cache')
    data = bytearray(entry.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 4096):  # flip bytes inside the weights
        data[i] ^= 0xFF
    entry.write_bytes(bytes(data))
    again = load_predictor('kobert-mini-nsmc', runtime='onnxruntime').predict(README_REVIEWS)
    np.testing.assert_allclose(again, reference, atol=1e-4)  # the flipped file was never run
    assert 'damaged' in caplog.text and 'building it again' in caplog.text
    assert len(list(entry.parent.glob('model.onnx.corrupt-*'))) == 1
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated
    third = load_predictor('kobert-mini-nsmc', runtime='onnxruntime').predict(README_REVIEWS)
    np.testing.assert_allclose(third, reference, atol=1e-4)


def test_int8_files_are_verified_rebuilt_with_their_source_and_built_in_private_folders(tmp_path, monkeypatch,
                                                                                        caplog):
    pytest.importorskip('onnxruntime')
    from kobert_gluon.deploy.predictor import cached_onnx
    from kobert_gluon.deploy.runtime import DYNAMIC, STATIC_QDQ, InferenceModel, _quantize
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path / 'cache'))
    onnx_path = cached_onnx(kobert_gluon.FineTunedModel.load('kobert-mini-nsmc'))
    # two builders at once (dynamic for onnxruntime, QDQ for OpenVINO): onnxruntime's quantizer writes
    # '<input>-inferred.onnx' beside its input, so each reads its own private link to the export
    errors = []

    def build(method):
        try:
            _quantize(onnx_path, method)
        except Exception as err:  # noqa: BLE001 -- reported below
            errors.append(err)
    threads = [threading.Thread(target=build, args=(method,)) for method in (DYNAMIC, STATIC_QDQ)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    names = sorted(p.name for p in onnx_path.parent.iterdir())
    assert names == ['model.int8.onnx', 'model.int8.onnx.sha256.json', 'model.onnx', 'model.onnx.sha256.json',
                     'model.qdq-int8.onnx', 'model.qdq-int8.onnx.sha256.json']
    int8 = onnx_path.with_name('model.int8.onnx')
    good = InferenceModel(onnx_path, precision='int8')(np.array([[2, 100, 3]]), np.zeros((1, 3), 'int64'),
                                                       np.array([3]))
    int8.write_bytes(int8.read_bytes()[:5000])  # truncated: a protobuf traceback on every run before
    again = InferenceModel(onnx_path, precision='int8')(np.array([[2, 100, 3]]), np.zeros((1, 3), 'int64'),
                                                        np.array([3]))
    assert all(np.allclose(good[name], again[name]) for name in good)
    assert 'int8.onnx' in caplog.text and 'building it again' in caplog.text


# ----- 3. import-hf: no guessed tokenizer; round trips keep predictions ---------------------------------------------
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


def test_export_then_import_predicts_exactly_as_before(tiny_run, tmp_path, capsys):
    _, run = tiny_run
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


# ----- 4. token classifiers with IO labels ---------------------------------------------------------------------------
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


# ----- 5. every command with --max-seq-length checks it against the model ------------------------------------------
@pytest.mark.parametrize('command', ['encode', 'tokenize'])
def test_max_seq_length_past_the_position_table_is_refused_by_every_command(command, capsys):
    code, out, err = run_cli(capsys, command, '--model', 'kobert-mini', '--max-seq-length', '600', LONG_REVIEW)
    assert code == 2 and 'position table' in error_line(err, command) and not out
    code, out, _ = run_cli(capsys, command, '--model', 'kobert-mini', LONG_REVIEW)  # the default fits the model
    assert code == 0


# ----- 6. the Python API ---------------------------------------------------------------------------------------------
def test_predict_refuses_one_bare_string():
    model = kobert_gluon.FineTunedModel.load('kobert-mini-nsmc')
    with pytest.raises(InputError, match=r'predict\(\[text\]\)'):
        model.predict('정말 재밌어요')
    assert model.predict(['정말 재밌어요']).shape == (1, 2)


@pytest.mark.parametrize('call', [
    lambda: kobert_gluon.get_model(None), lambda: kobert_gluon.get_model(42), lambda: kobert_gluon.get_model(''),
    lambda: kobert_gluon.get_model('kobert-mini', dropout='0.1'), lambda: kobert_gluon.get_model('kobert-mini', ctx='tpu'),
    lambda: kobert_gluon.load_tokenizer(None), lambda: kobert_gluon.import_hf(None, 'out')])
def test_wrong_argument_types_are_one_clear_input_error(call):
    with pytest.raises(InputError) as caught:
        call()
    assert '\n' not in str(caught.value) and len(str(caught.value)) > 30


def test_ctx_may_be_named():
    import mxnet as mx
    model, _ = kobert_gluon.get_model('kobert-mini', ctx='cpu')
    assert model.collect_params().list_ctx() == [mx.cpu(0)]


# ----- 7. SQuAD files: every field checked ---------------------------------------------------------------------------
SQUAD = {'data': [{'title': 't', 'paragraphs': [{'context': '서울은 수도다', 'qas': [
    {'id': 'q1', 'question': '수도는?', 'answers': [{'text': '서울', 'answer_start': 0}]}]}]}]}


def _squad_with(tmp_path, change):
    document = json.loads(json.dumps(SQUAD))
    change(document)
    path = tmp_path / 'squad.json'
    path.write_text(json.dumps(document, ensure_ascii=False), encoding='utf-8')
    return path


BAD_SQUAD = {
    'data is null': (lambda d: d.update(data=None), '"data" must be a list'),
    'paragraphs is null': (lambda d: d['data'][0].update(paragraphs=None), '"paragraphs" must be a list'),
    'qas is a string': (lambda d: d['data'][0]['paragraphs'][0].update(qas='abc'), '"qas" must be a list'),
    'answers is null': (lambda d: d['data'][0]['paragraphs'][0]['qas'][0].update(answers=None),
                        '"answers" must be a list'),
    'answer is a string': (lambda d: d['data'][0]['paragraphs'][0]['qas'][0].update(answers=['서울']),
                           'must be an object'),
    'negative answer_start': (lambda d: d['data'][0]['paragraphs'][0]['qas'][0]['answers'][0].update(
        text='다', answer_start=-1), 'not at character -1'),
}


@pytest.mark.parametrize('case', sorted(BAD_SQUAD))
def test_malformed_squad_files_are_one_line_in_every_command(case, tmp_path, capsys):
    change, expected = BAD_SQUAD[case]
    path = _squad_with(tmp_path, change)
    predictions = tmp_path / 'predictions.json'
    predictions.write_text('{"q1": "서울"}', encoding='utf-8')
    code, _, err = run_cli(capsys, 'score-qa', path, predictions)
    assert code == 2 and expected in error_line(err, 'score-qa')
    from kobert_gluon.tasks.extractive_qa import read_squad
    with pytest.raises(InputError, match=expected.replace('"', '.').replace('(', '.').replace(')', '.')):
        read_squad(path, need_answers=False)


def test_score_qa_words_an_unanswered_gold_question_as_scoring(tmp_path, capsys):
    path = _squad_with(tmp_path, lambda d: d['data'][0]['paragraphs'][0]['qas'][0].update(answers=[]))
    predictions = tmp_path / 'predictions.json'
    predictions.write_text('{"q1": "서울"}', encoding='utf-8')
    code, _, err = run_cli(capsys, 'score-qa', path, predictions)
    line = error_line(err, 'score-qa')
    assert code == 2 and 'to score a prediction against' in line and 'learn' not in line


# ----- 8. tagged text: repaired tags counted where they are ----------------------------------------------------------
def test_repaired_tags_are_counted_per_part(tmp_path):
    from kobert_gluon.tasks.tagging import read_klue_ner, split_off
    sentences = []
    for i in range(40):
        tags = ['I-PS', 'I-PS'] if i < 10 else ['B-PS', 'I-PS']  # the first ten begin with a bare I-
        sentences.append('\n'.join('{}\t{}'.format(c, t) for c, t in zip('홍길' + str(i), tags + ['O'] * 9)))
    path = tmp_path / 'ner.tsv'
    path.write_text('\n\n'.join(sentences) + '\n', encoding='utf-8')
    data = read_klue_ner(path)
    assert data.repaired == 10
    rest, dev = split_off(data, 0.3)
    assert rest.repaired + dev.repaired == 10
    assert rest.repaired == sum(1 for e in rest.examples if e.text[2:] and int(e.text[2:]) < 10)


# ----- 9. transformers checkpoints: malformed files are one line ------------------------------------------------------
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


# ----- 10. messages that pointed the wrong way -----------------------------------------------------------------------
def test_export_commands_take_a_run_folder_as_predict_does(tiny_run, tmp_path, capsys):
    _, run = tiny_run
    code, _, err = run_cli(capsys, 'export-hf', run, '--out', tmp_path / 'hf')
    assert code == 0, err
    pytest.importorskip('onnx')
    code, _, err = run_cli(capsys, 'export-onnx', '--model', run, '--out', tmp_path / 'model.onnx')
    assert code == 0, err


def test_distill_names_the_missing_masked_lm_head(mini_pretraining_data, tmp_path, capsys):
    code, _, err = run_cli(capsys, 'distill', '--teacher', 'kobert-mini-nsmc', '--student-layers', '1', '--data',
                           mini_pretraining_data.folder, '--out', tmp_path / 'run', '--no-progress')
    line = error_line(err, 'distill')
    assert code == 2 and 'no masked-LM head' in line and 'use_decoder=False' not in line
    assert not (tmp_path / 'run').exists()


def test_verify_checks_an_export_folder_and_names_what_a_run_folder_holds(tiny_run, tmp_path, capsys):
    _, run = tiny_run
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
