"""Token classification and extractive QA through the commands, as a user runs them, on data written here.

The data are synthetic but regular enough that a one-layer model learns them in a few epochs, so the tests check
that labels go onto the right pieces and come back as the right characters: a mistake in either direction keeps
the scores low.
"""
import json
import random

import pytest

from kobert_gluon.cli import main

from .conftest import error_line

TINY = ['--model', 'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '64', '--hidden-size', '128',
        '--num-heads', '2', '--no-progress', '--seed', '3']
NAMES = ['김민수', '이영희', '박지성', '최영수', '정수진', '강하늘', '조민호', '윤서연']
PLACES = ['서울', '부산', '대구', '광주', '대전', '울산', '수원', '제주']
VERBS = ['갔다', '왔다', '살았다', '일했다']


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _klue_sentence(rng):
    """A sentence and its character BIO tags: '<name>씨는 <place>에 <verb>.' with the name PS and the place LC."""
    name, place, verb = rng.choice(NAMES), rng.choice(PLACES), rng.choice(VERBS)
    parts = [(name, 'PS'), ('씨는 ', None), (place, 'LC'), ('에 ' + verb + '.', None)]
    if rng.random() < 0.5:
        parts = [('어제 ', None)] + parts
    chars, tags = [], []
    for text, label in parts:
        for i, char in enumerate(text):
            chars.append(char)
            tags.append('O' if label is None else ('B-' if i == 0 else 'I-') + label)
    return ''.join(chars), tags


def _write_klue(path, sentences):
    lines = ['## 토큰, 레이블 구분자 : \\t', '## 컬럼명 : CHAR\tNE_TAG']
    for number, (text, tags) in enumerate(sentences):
        lines.append('## sentence-{}\t{}'.format(number, text))
        lines.extend('{}\t{}'.format(char, tag) for char, tag in zip(text, tags))
        lines.append('')
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')


@pytest.fixture(scope='module')
def ner_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp('ner')
    rng = random.Random(0)
    _write_klue(folder / 'train.tsv', [_klue_sentence(rng) for _ in range(300)])
    _write_klue(folder / 'dev.tsv', [_klue_sentence(rng) for _ in range(40)])
    code = main(['finetune', '--kind', 'token_classification', '--data-format', 'klue', '--train',
                 str(folder / 'train.tsv'), '--dev', str(folder / 'dev.tsv'), '--epochs', '6', '--batch-size', '16',
                 '--lr', '2e-3', '--max-seq-length', '32', '--out', str(folder / 'run')] + TINY)
    assert code == 0
    return folder


def test_token_classifier_learns_entities_and_evaluate_reproduces_dev(ner_run, capsys):
    metrics = json.loads((ner_run / 'run' / 'metrics.json').read_text())
    best = metrics['best']
    assert best['metric'] == 'entity_f1' and best['value'] > 0.9  # names and places from fixed lists
    code, out, err = run(capsys, 'evaluate', '--model', ner_run / 'run', '--data', ner_run / 'dev.tsv', '--json')
    assert code == 0, err
    evaluated = json.loads(out)
    assert evaluated['texts'] == 40 and evaluated['entities'] == 80 and evaluated['truncated_texts'] == 0
    assert evaluated['entity_f1'] == pytest.approx(best['value'])
    assert set(evaluated) >= {'entity_precision', 'entity_recall', 'f1_PS', 'f1_LC'}


def test_evaluate_reads_the_same_sentences_in_conll_format(ner_run, capsys, tmp_path):
    # the dev sentences as token<TAB>TAG lines (an entity becomes its whole space-separated token: 김민수씨는)
    from kobert_gluon.tasks.tagging import read_klue_ner
    lines = []
    for example in read_klue_ner(ner_run / 'dev.tsv').examples:
        starts = {e.start: e for e in example.entities}
        position, inside = 0, None
        for token in example.text.split(' '):
            entity = starts.get(position)
            if entity is not None:
                tag, inside = 'B-' + entity.label, entity
            elif inside is not None and position < inside.end:
                tag = 'I-' + inside.label
            else:
                tag, inside = 'O', None
            lines.append('{}\t{}'.format(token, tag))
            position += len(token) + 1
        lines.append('')
    conll = tmp_path / 'dev.conll'
    conll.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    code, conll_out, err = run(capsys, 'evaluate', '--model', ner_run / 'run', '--data', conll, '--data-format',
                               'conll', '--json')
    assert code == 0, err
    scores = json.loads(conll_out)
    assert scores['texts'] == 40 and scores['entities'] == 80 and scores['truncated_texts'] == 0
    code, _, err = run(capsys, 'evaluate', '--model', ner_run / 'run', '--data', conll, '--json')
    assert code == 2 and 'for token<TAB>TAG files use the conll format' in error_line(err, 'evaluate')


def test_predict_writes_entities_with_character_offsets_one_line_per_input(ner_run, capsys, tmp_path):
    texts = ['박지성씨는 수원에 왔다.', '', '어제   정수진씨는 제주에 살았다.']
    source = tmp_path / 'texts.txt'
    source.write_text('\n'.join(texts) + '\n', encoding='utf-8')
    code, out, err = run(capsys, 'predict', '--model', ner_run / 'run', '--input', source)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row['text'] for row in rows] == texts  # blank inputs keep their line
    assert rows[1]['entities'] == [] and '1 of 3 inputs were blank' in err
    for row in rows:
        for entity in row['entities']:
            assert row['text'][entity['start']:entity['end']] == entity['text']
    assert [(e['text'], e['label']) for e in rows[0]['entities']] == [('박지성', 'PS'), ('수원', 'LC')]
    # repeated spaces before the name: offsets still point into the text as given
    assert [(e['start'], e['text']) for e in rows[2]['entities']] == [(5, '정수진'), (11, '제주')]


def test_token_classifier_exports_and_predicts_through_onnxruntime(ner_run, capsys, tmp_path):
    pytest.importorskip('onnxruntime')
    code, out, err = run(capsys, 'export-onnx', '--model', ner_run / 'run' / 'best', '--out', tmp_path / 'ner.onnx',
                         '--verify')
    assert code == 0, err
    assert 'token_logits' in out
    text = '최영수씨는 대전에 일했다.'
    _, mxnet_out, _ = run(capsys, 'predict', '--model', ner_run / 'run', text)
    code, onnx_out, err = run(capsys, 'predict', '--model', ner_run / 'run', '--runtime', 'onnxruntime', text)
    assert code == 0, err
    assert json.loads(onnx_out) == json.loads(mxnet_out)


def test_table_options_are_refused_for_tagged_text(ner_run, capsys):
    code, _, err = run(capsys, 'finetune', '--kind', 'token_classification', '--train', ner_run / 'train.tsv',
                       '--text-column', 'text', '--out', ner_run / 'x', *TINY)
    assert code == 2 and 'describe tables' in error_line(err, 'finetune')
    code, _, err = run(capsys, 'finetune', '--task', 'nsmc', '--data-format', 'conll', '--train', ner_run / 'train.tsv',
                       '--out', ner_run / 'x', *TINY)
    assert code == 2 and '--data-format is for' in error_line(err, 'finetune')


def test_a_sentence_model_refuses_entity_and_answer_calls(capsys):
    from kobert_gluon.core.errors import InputError
    from kobert_gluon.tasks.finetuning import FineTunedModel
    model = FineTunedModel.load('kobert-mini-nsmc')
    with pytest.raises(InputError, match='predict_entities needs a token classification model'):
        model.predict_entities(['좋아요'])


# ----- extractive QA -------------------------------------------------------------------------------------------
FILLER = ['오늘은 날씨가 맑다.', '사람들이 공원을 걷는다.', '바람이 조금 분다.', '아이들이 노래를 부른다.',
          '가게 문이 열렸다.', '강물이 천천히 흐른다.']


def _squad(rng, articles, prefix):
    """Contexts of filler sentences with one '비밀 번호는 N번이다.' in a random place; the question asks for it."""
    data = []
    for a in range(articles):
        paragraphs = []
        for p in range(3):
            sentences = [rng.choice(FILLER) for _ in range(rng.randint(3, 12))]
            number = str(rng.randint(100, 999))
            sentences.insert(rng.randint(0, len(sentences)), '비밀 번호는 {}번이다.'.format(number))
            context = ' '.join(sentences)
            start = context.index('번호는 ') + len('번호는 ')
            paragraphs.append({'context': context, 'qas': [{
                'id': '{}-{}-{}'.format(prefix, a, p), 'question': '비밀 번호는 몇 번인가?',
                'answers': [{'text': number, 'answer_start': start}]}]})
        data.append({'title': '{}{}'.format(prefix, a), 'paragraphs': paragraphs})
    return {'version': 'synthetic', 'data': data}


@pytest.fixture(scope='module')
def qa_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp('qa')
    rng = random.Random(1)
    (folder / 'train.json').write_text(json.dumps(_squad(rng, 60, 'train'), ensure_ascii=False), encoding='utf-8')
    (folder / 'dev.json').write_text(json.dumps(_squad(rng, 8, 'dev'), ensure_ascii=False), encoding='utf-8')
    # 48 pieces per window: most contexts need several windows, so window labels and decoding across them count
    code = main(['finetune', '--kind', 'extractive_qa', '--train', str(folder / 'train.json'), '--dev',
                 str(folder / 'dev.json'), '--epochs', '4', '--batch-size', '16', '--lr', '2e-3', '--max-seq-length',
                 '48', '--out', str(folder / 'run')] + TINY)
    assert code == 0
    return folder


def test_qa_learns_answers_across_windows_and_score_qa_agrees(qa_run, capsys):
    metrics = json.loads((qa_run / 'run' / 'metrics.json').read_text())
    assert metrics['best']['metric'] == 'f1' and metrics['best']['value'] > 90
    answers = qa_run / 'answers.json'
    code, _, err = run(capsys, 'predict', '--model', qa_run / 'run', '--input', qa_run / 'dev.json', '--output', answers)
    assert code == 0, err
    predicted = json.loads(answers.read_text(encoding='utf-8'))
    assert len(predicted) == 24
    code, out, err = run(capsys, 'score-qa', qa_run / 'dev.json', answers)
    assert code == 0, err
    assert len(out.splitlines()) == 1
    scores = json.loads(out)
    assert scores['f1'] == pytest.approx(metrics['best']['value'])
    code, out, err = run(capsys, 'evaluate', '--model', qa_run / 'run', '--data', qa_run / 'dev.json', '--json')
    evaluated = json.loads(out)
    assert evaluated['f1'] == pytest.approx(scores['f1']) and evaluated['questions'] == 24
    assert 'f1_particles_suffix' in evaluated and 'exact_match_particles_suffix' in evaluated


def test_qa_predict_takes_the_first_questions_and_needs_a_json_input(qa_run, capsys):
    code, out, err = run(capsys, 'predict', '--model', qa_run / 'run', '--input', qa_run / 'dev.json', '--max-rows', 2)
    assert code == 0, err
    assert list(json.loads(out)) == ['dev-0-0', 'dev-0-1']
    code, _, err = run(capsys, 'predict', '--model', qa_run / 'run', '어느 질문')
    assert code == 2 and 'reads its questions from --input SQUAD_JSON' in error_line(err, 'predict')


def test_qa_exports_and_predicts_through_onnxruntime(qa_run, capsys, tmp_path):
    pytest.importorskip('onnxruntime')
    code, out, err = run(capsys, 'export-onnx', '--model', qa_run / 'run' / 'best', '--out', tmp_path / 'qa.onnx',
                         '--verify')
    assert code == 0, err
    assert 'span_logits' in out
    _, mxnet_out, _ = run(capsys, 'predict', '--model', qa_run / 'run', '--input', qa_run / 'dev.json')
    code, onnx_out, err = run(capsys, 'predict', '--model', qa_run / 'run', '--input', qa_run / 'dev.json',
                              '--runtime', 'onnxruntime')
    assert code == 0, err
    assert json.loads(onnx_out) == json.loads(mxnet_out)


# ----- one trainer: resume is exact for both structures ---------------------------------------------------------
@pytest.mark.parametrize('structure', ['tagged', 'squad'])
def test_resume_mid_epoch_matches_an_uninterrupted_run(structure, ner_run, qa_run, tmp_path):
    from kobert_gluon.tasks.datasets import TaskSpec
    from kobert_gluon.tasks.finetuning import FinetuneSettings, finetune
    from kobert_gluon.training.trainer import TrainingConfig

    from .test_finetune import assert_same_run
    if structure == 'tagged':
        spec = TaskSpec(name='mine', kind='token_classification', metric='entity_f1', table=None, data_format='klue')
        train, dev = ner_run / 'train.tsv', ner_run / 'dev.tsv'
    else:
        spec = TaskSpec(name='mine', kind='extractive_qa', metric='f1', table=None, data_format='squad')
        train, dev = qa_run / 'train.json', qa_run / 'dev.json'
    settings = FinetuneSettings(
        task=spec, train=str(train), dev=str(dev), model='kobert-mini', from_scratch=True, max_train_rows=48,
        max_dev_rows=8, model_overrides=dict(num_layers=1, units=32, hidden_size=64, num_heads=2),
        max_seq_length=48, batch_size=8, training=TrainingConfig(epochs=2, learning_rate=1e-3, seed=2, progress=False,
                                                                 checkpoint_every=2))
    finetune(settings, tmp_path / 'straight', log=lambda line: None)
    stopped = finetune(settings, tmp_path / 'resumed', log=lambda line: None,
                       should_stop=lambda progress: progress['step'] == 5)
    assert stopped.interrupted
    finetune(settings, tmp_path / 'resumed', resume=True, log=lambda line: None)
    assert_same_run(tmp_path / 'straight', tmp_path / 'resumed')
    run_document = json.loads((tmp_path / 'resumed' / 'run.json').read_text())
    assert run_document['settings']['task']['kind'] == spec.kind and run_document['data']['sha256']
