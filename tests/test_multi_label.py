"""Multi-label classification as a user runs it: a table whose label column holds several labels (``a|b``), fine-tuned,
evaluated and predicted through the commands, served, exported to ONNX, and converted both ways with transformers'
``BertForSequenceClassification`` (``problem_type: multi_label_classification``), checked against transformers itself.

No multi-label Korean set is in ../shared/data; the Korean hate speech set has two label columns (``bias``: gender,
others or none; ``hate``: hate, offensive or none), so the table here is built from it: a comment's labels are its
bias and its hate level where they are not ``none`` (``gender|hate``; a clean comment has none)."""
import csv
import json
import warnings

import mxnet as mx
import numpy as np
import pytest

import kobert_gluon
from kobert_gluon.cli import main
from kobert_gluon.convert.huggingface import export_hf
from kobert_gluon.tasks.finetuning import FineTunedModel
from kobert_gluon.tasks.multi_label import choose_thresholds, multi_label_metrics

from .conftest import error_line, require_shared
from .test_convert import IDS, LENGTHS, SMALL, TYPES, _perturbed, _with_tokenizer_files

TINY = ['--model', 'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '64', '--hidden-size', '128',
        '--num-heads', '2', '--no-progress', '--seed', '3']
LABELS = ['gender', 'hate', 'offensive', 'others']


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _hate_speech_labels(path, out, rows=None):
    """The hate speech file as a multi-label table (text, labels): bias and hate level where not ``none``."""
    with open(path, encoding='utf-8', newline='') as handle:
        reader = csv.DictReader(handle, delimiter='\t')
        table = [(row['comments'], '|'.join(v for v in (row['bias'], row['hate']) if v != 'none'))
                 for row in reader][:rows]
    out.write_text('text\tlabels\n' + ''.join('{}\t{}\n'.format(t.replace('"', "'"), l) for t, l in table),
                   encoding='utf-8')
    return table


def test_metrics_and_thresholds_by_hand():
    truth = np.array([[1, 0], [1, 1], [0, 0], [0, 1]], dtype=np.float32)
    predicted = np.array([[1, 1], [1, 0], [0, 0], [0, 1]], dtype=bool)
    metrics = multi_label_metrics(truth, predicted, ['a', 'b'])
    # a: 2 hits of 2 true, 2 predicted -> F1 1; b: 1 hit, 2 true, 2 predicted -> 0.5; pooled: 3 hits, 4 + 4
    assert metrics['f1_a'] == 1.0 and metrics['f1_b'] == 0.5
    assert metrics['macro_f1'] == 0.75 and metrics['micro_f1'] == 0.75
    assert metrics['exact_match'] == 0.5  # rows 3 and 4 are wholly right
    probabilities = np.array([[0.9, 0.2], [0.3, 0.25], [0.1, 0.1], [0.2, 0.7]], dtype=np.float32)
    # a: 0.3 still catches row 2 and nothing false (0.25 would take 0.3, 0.2 would add row 4): the lowest best is 0.25
    # b: rows 2 and 4 are true; 0.25 takes both and row 1's 0.2 not
    assert choose_thresholds(truth, probabilities) == [0.25, 0.25]
    # a label dev never has keeps 0.5
    assert choose_thresholds(np.zeros((2, 1)), np.array([[0.9], [0.1]])) == [0.5]


@pytest.fixture(scope='module')
def hate_speech_run(tmp_path_factory):
    """A one-layer model fine-tuned on 600 real comments, dev = the first 150 of the official dev set."""
    folder = tmp_path_factory.mktemp('multi_label')
    train = _hate_speech_labels(require_shared('korean_hate_speech', 'train.tsv'), folder / 'train.tsv', 600)
    _hate_speech_labels(require_shared('korean_hate_speech', 'dev.tsv'), folder / 'dev.tsv', 150)
    code = main(['finetune', '--kind', 'multi_label_classification', '--train', str(folder / 'train.tsv'),
                 '--dev', str(folder / 'dev.tsv'), '--text-column', 'text', '--label-column', 'labels',
                 '--epochs', '3', '--batch-size', '16', '--lr', '1e-3', '--max-seq-length', '48', '--out', str(folder / 'run')]
                + TINY)
    assert code == 0
    return folder, train


def test_finetune_evaluate_predict_on_real_data(hate_speech_run, capsys):
    folder, train = hate_speech_run
    run_document = json.loads((folder / 'run' / 'run.json').read_text(encoding='utf-8'))
    counts = run_document['data']['train']['label_counts']
    # every label counted wherever it occurs, as the file has them
    assert counts == {label: sum(label in labels.split('|') for _, labels in train) for label in LABELS}
    assert run_document['data']['train']['rows_without_label'] == sum(1 for _, labels in train if not labels)
    model = FineTunedModel.load(folder / 'run')
    assert list(model.labels) == LABELS and len(model.info['thresholds']) == 4
    assert all(t in [round(0.05 * i, 2) for i in range(1, 20)] for t in model.info['thresholds'])
    # evaluate uses the saved thresholds: the metrics follow from predict with them, computed here by hand
    code, out, err = run(capsys, 'evaluate', '--model', folder / 'run', '--data', folder / 'dev.tsv', '--json')
    assert code == 0, err
    metrics = json.loads(out)
    dev = [line.split('\t') for line in (folder / 'dev.tsv').read_text(encoding='utf-8').splitlines()[1:]]
    probabilities = model.predict([text for text, _ in dev])
    assert probabilities.shape == (150, 4) and ((probabilities > 0) & (probabilities < 1)).all()
    truth = np.array([[label in labels.split('|') for label in LABELS] for _, labels in dev])
    expected = multi_label_metrics(truth, probabilities >= np.array(model.info['thresholds']), LABELS)
    assert metrics['micro_f1'] == pytest.approx(expected['micro_f1'], abs=1e-6)
    assert metrics['macro_f1'] == pytest.approx(expected['macro_f1'], abs=1e-6)
    assert metrics['examples'] == 150
    # predict: the chosen labels in the training file's own format, then each label's probability
    code, out, err = run(capsys, 'predict', '--model', folder / 'run', dev[0][0], dev[1][0])
    assert code == 0, err
    header, *rows = [line.split('\t') for line in out.splitlines()]
    assert header == ['text', 'label'] + ['p_' + label for label in LABELS]
    for row, p in zip(rows, probabilities[:2]):
        assert row[1] == '|'.join(l for l, v, t in zip(LABELS, p, model.info['thresholds']) if v >= t)
        assert [float(v) for v in row[2:]] == pytest.approx(p.tolist(), abs=1e-5)


def test_bad_labels_and_rare_labels_are_one_line(tmp_path, capsys):
    rows = ['좋은 글\tpraise', '나쁜 글\tinsult|', '그냥 글\t'] + ['글 {}\tpraise|spam'.format(i) for i in range(8)]
    (tmp_path / 'bad.tsv').write_text('text\tlabels\n' + '\n'.join(rows) + '\n', encoding='utf-8')
    args = ['finetune', '--kind', 'multi_label_classification', '--train', tmp_path / 'bad.tsv', '--text-column',
            'text', '--label-column', 'labels', '--out', tmp_path / 'run'] + TINY
    code, _, err = run(capsys, *args)
    assert code == 2 and 'line 3: an empty label in \'insult|\'' in error_line(err, 'finetune')
    rows[1] = '나쁜 글\tinsult'
    (tmp_path / 'bad.tsv').write_text('text\tlabels\n' + '\n'.join(rows) + '\n', encoding='utf-8')
    code, _, err = run(capsys, *args)
    assert code == 2 and "label 'insult' is on only 1 row (line 3), fewer than --min-label-count=5" in \
        error_line(err, 'finetune')
    code, _, err = run(capsys, *args, '--labels', 'praise,spam')
    assert code == 2 and "unknown label 'insult'; expected some of praise, spam" in error_line(err, 'finetune')


@pytest.fixture(autouse=False)
def transformers():
    transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (test extra)')
    pytest.importorskip('torch', reason='the parity tests need torch (test extra)')
    transformers.logging.set_verbosity_error()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield transformers


def test_transformers_multi_label_in_and_out(tmp_path, capsys, transformers):
    import torch
    labels = {0: 'gender', 1: 'others', 2: 'hate'}
    hf = _perturbed(transformers.BertForSequenceClassification(transformers.BertConfig(
        **SMALL, num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()},
        problem_type='multi_label_classification')))
    hf.save_pretrained(tmp_path / 'hf')
    _with_tokenizer_files(tmp_path / 'hf')
    code, _, err = run(capsys, 'import-hf', tmp_path / 'hf', '--out', tmp_path / 'gluon')
    assert code == 0, err
    mask = torch.tensor((np.arange(IDS.shape[1])[None] < LENGTHS[:, None]).astype('int64'))
    with torch.no_grad():
        expected = hf(input_ids=torch.tensor(IDS), token_type_ids=torch.tensor(TYPES), attention_mask=mask).logits
    gluon, _ = kobert_gluon.get_model(str(tmp_path / 'gluon'))
    logits = gluon(mx.nd.array(IDS), mx.nd.array(TYPES), mx.nd.array(LENGTHS)).asnumpy()
    assert float(np.abs(logits - expected.numpy()).max()) < 1e-5
    model = FineTunedModel.load(tmp_path / 'gluon')
    assert model.spec.kind == 'multi_label_classification' and 'thresholds' not in model.info
    assert model._task.thresholds == [0.5, 0.5, 0.5]  # as transformers' pipelines read sigmoid scores
    # predict's probabilities are transformers' sigmoids
    texts = ['정말 좋아요', '별로예요']
    encoded = [model.tokenizer.encode(text, max_seq_length=model.max_seq_length, pad=False) for text in texts]
    with torch.no_grad():
        for (ids, length, types), p in zip(encoded, model.predict(texts)):
            hf_logits = hf(input_ids=torch.tensor([ids[:length]]), token_type_ids=torch.tensor([types[:length]])).logits
            assert np.abs(torch.sigmoid(hf_logits)[0].numpy() - p).max() < 1e-5
    back = export_hf(tmp_path / 'gluon', tmp_path / 'back')
    config = json.loads((back / 'config.json').read_text())
    assert config['problem_type'] == 'multi_label_classification'
    assert config['id2label'] == {'0': 'gender', '1': 'others', '2': 'hate'}
    again = transformers.BertForSequenceClassification.from_pretrained(back).eval()
    with torch.no_grad():
        again_logits = again(input_ids=torch.tensor(IDS), token_type_ids=torch.tensor(TYPES),
                             attention_mask=mask).logits
    assert float(np.abs(again_logits.numpy() - expected.numpy()).max()) == 0.0


def test_fine_tuned_model_exports_to_transformers_and_onnx(hate_speech_run, tmp_path, transformers):
    """export-hf of a model fine-tuned here keeps its problem type; ONNX (onnxruntime) predicts as MXNet does."""
    import torch
    folder, _ = hate_speech_run
    back = export_hf(folder / 'run', tmp_path / 'hf')
    assert json.loads((back / 'config.json').read_text())['problem_type'] == 'multi_label_classification'
    hf = transformers.BertForSequenceClassification.from_pretrained(back).eval()
    model = FineTunedModel.load(folder / 'run')
    ids, length, types = model.tokenizer.encode('이 댓글은 좀 심하네요', max_seq_length=48, pad=False)
    with torch.no_grad():
        hf_p = torch.sigmoid(hf(input_ids=torch.tensor([ids[:length]]),
                                token_type_ids=torch.tensor([types[:length]])).logits)[0].numpy()
    assert np.abs(model.predict(['이 댓글은 좀 심하네요'])[0] - hf_p).max() < 1e-5
    pytest.importorskip('onnxruntime', reason='the ONNX check needs onnxruntime (onnx extra)')
    from kobert_gluon.deploy.predictor import load_predictor
    texts = ['이 댓글은 좀 심하네요', '좋은 기사 감사합니다', '여자들은 다 그래']
    onnx = load_predictor(folder / 'run', runtime='onnxruntime')
    assert np.abs(onnx.predict(texts) - model.predict(texts)).max() < 1e-4
    assert onnx.output_columns() == model.output_columns()


def test_served_predict_answers_probabilities_and_chosen_labels(hate_speech_run):
    pytest.importorskip('fastapi', reason='serving needs the [serve] extra')
    from kobert_gluon.serving import create_app
    import httpx
    from .test_serve import Running, post
    running_get = lambda running, path: httpx.get(running.url + path, timeout=30)  # noqa: E731
    folder, _ = hate_speech_run
    model = FineTunedModel.load(folder / 'run')
    running = Running(create_app(model, name='multi'))
    try:
        response = post(running, '/predict', {'inputs': ['좋은 기사 감사합니다', '여자들은 다 그래']})
        metadata = running_get(running, '/v2/models/multi').json()
        v2 = post(running, '/v2/models/multi/infer', {'inputs': [{'name': 'text', 'shape': [2], 'datatype': 'BYTES',
                                                                  'data': ['좋은 기사 감사합니다', '여자들은 다 그래']}]})
    finally:
        running.stop()
    # the Open Inference Protocol gives the same: the chosen labels "|"-joined, every label's probability
    assert [o['name'] for o in metadata['outputs']] == ['labels', 'probabilities'] and \
        metadata['parameters']['labels'] == LABELS
    assert v2.status_code == 200, v2.text
    outputs = {o['name']: o for o in v2.json()['outputs']}
    assert outputs['labels']['data'] == ['|'.join(item['labels']) for item in response.json()]
    assert outputs['probabilities']['shape'] == [2, len(LABELS)]
    for row, item in enumerate(response.json()):
        scores = {s['label']: s['score'] for s in item['scores']}
        assert outputs['probabilities']['data'][row * len(LABELS):(row + 1) * len(LABELS)] == pytest.approx(
            [scores[label] for label in LABELS], abs=1e-6)
    assert response.status_code == 200, response.text
    answer = response.json()
    expected = model.predict(['좋은 기사 감사합니다', '여자들은 다 그래'])
    thresholds = model.info['thresholds']
    for item, p in zip(answer, expected):
        assert item['labels'] == [l for l, v, t in zip(LABELS, p, thresholds) if v >= t]
        assert {s['label']: s['score'] for s in item['scores']} == pytest.approx(dict(zip(LABELS, p.tolist())),
                                                                                  abs=1e-5)
        assert [s['score'] for s in item['scores']] == sorted((s['score'] for s in item['scores']), reverse=True)
