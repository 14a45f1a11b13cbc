"""KorQuAD 1.0's official exact match and character-level F1: the normalisation, hand-computed scores, and the
score-qa command as a user runs it."""
import json

import pytest

from kobert_gluon.tasks.qa_scoring import char_f1, exact_match, normalize_answer, score_predictions

from .conftest import error_line, require_shared, run_cli


@pytest.mark.parametrize('text, normalised', [
    ('《태백산맥》', '태백산맥'),  # the quotes and brackets of evaluate-v1.0.py become spaces
    ('〈님의 침묵〉', '님의 침묵'),
    ('(주)카카오', '주 카카오'),
    ("‘토지’", '토지'),
    ('"Hello," she said!', 'hello she said'),  # ASCII punctuation dropped, case folded
    ('<B>  Tag\t</B>', 'b tag b'),  # whitespace collapsed
    ('1,000.5달러', '10005달러'),
    ('한·중 (韓中)', '한·중 韓中'),  # punctuation outside ASCII stays, as in the official script
    ('', ''),
])
def test_normalize_answer(text, normalised):
    assert normalize_answer(text) == normalised


def test_exact_match_and_char_f1():
    assert exact_match('《태백산맥》', '태백산맥') == 1.0
    assert exact_match('1989 년', '1989년') == 0.0
    assert char_f1('1989 년', '1989년') == 1.0  # F1 leaves spaces out
    # '1989년 2월' against '1989년 2월 15일': the prediction's 7 characters 1 9 8 9 년 2 월 are all in the gold
    # answer's 10 (1 9 8 9 년 2 월 1 5 일): P = 7/7, R = 7/10, F1 = 2 * 1 * 0.7 / (1 + 0.7) = 14/17
    assert char_f1('1989년 2월', '1989년 2월 15일') == pytest.approx(14 / 17)
    # characters count as a multiset: '서울서울' against '서울': 2 in common, P = 2/4, R = 2/2, F1 = 2/3
    assert char_f1('서울서울', '서울') == pytest.approx(2 / 3)
    assert char_f1('소설', '조정래') == 0.0 and char_f1('', '서울') == 0.0 and char_f1('"', '"') == 0.0


CONTEXT = '그는 1989년 2월 15일 서울특별시에서 태어났다. 《태백산맥》은 조정래의 소설이다. The Beatles were British.'
GOLDS = {'q1': ['1989년 2월 15일'], 'q2': ['《태백산맥》'], 'q3': ['The Beatles'], 'q4': ['서울', '서울특별시'],
         'q5': ['태어났다'], 'q6': ['조정래']}
PREDICTIONS = {
    'q1': '1989년 2월',   # EM 0, F1 14/17 (above)
    'q2': '태백산맥',      # 《》 are spaces: EM 1, F1 1
    'q3': 'the Beatles.',  # case and the full stop: EM 1, F1 1
    'q4': '서울시',        # best over the gold answers: against 서울, P = 2/3, R = 2/2, F1 = 2 * (2/3) / (5/3) = 0.8;
                          # against 서울특별시, P = 3/3, R = 3/5, F1 = 2 * 0.6 / 1.6 = 0.75: F1 0.8, EM 0
    # q5: no prediction: 0 and 0
    'q6': '소설',          # no character in common: 0 and 0
    'zz': '없는 질문',      # not a question of the file: ignored
}
# EM = (0 + 1 + 1 + 0 + 0 + 0) / 6 = 33.33 %
# F1 = (14/17 + 1 + 1 + 0.8 + 0 + 0) / 6 = (70/85 + 238/85) / 6 = 308/510 = 60.39 %
EXPECTED = {'exact_match': 100 * 2 / 6, 'f1': 100 * 308 / 510}


def _squad_file(folder):
    qas = [{'id': qid, 'question': '무엇?', 'answers': [{'text': t, 'answer_start': CONTEXT.index(t)} for t in texts]}
           for qid, texts in GOLDS.items()]
    path = folder / 'gold.json'
    path.write_text(json.dumps({'version': 'KorQuAD_v1.0_dev', 'data': [
        {'title': '시험', 'paragraphs': [{'context': CONTEXT, 'qas': qas}]}]}, ensure_ascii=False), encoding='utf-8')
    return path


def test_score_predictions_on_hand_computed_values():
    scores = score_predictions(GOLDS, PREDICTIONS)
    assert scores == pytest.approx(dict(EXPECTED, questions=6, unanswered=1))
    assert score_predictions({}, {}) == {'exact_match': 0.0, 'f1': 0.0, 'questions': 0, 'unanswered': 0}


def test_score_qa_prints_one_json_line(tmp_path, capsys):
    gold = _squad_file(tmp_path)
    predictions = tmp_path / 'answers.json'
    predictions.write_text(json.dumps(PREDICTIONS, ensure_ascii=False), encoding='utf-8')
    code, out, err = run_cli(capsys, 'score-qa', gold, predictions)
    assert code == 0, err
    assert out.endswith('\n') and len(out.splitlines()) == 1
    result = json.loads(out)
    assert set(result) == {'exact_match', 'f1'} and result == pytest.approx(EXPECTED)
    assert 'kobert-gluon score-qa: 1 of 6 questions have no prediction and score 0' in err
    assert 'kobert-gluon score-qa: 1 predictions name questions not in' in err
    # --quiet keeps stderr empty; the line is the same
    code, quiet_out, quiet_err = run_cli(capsys, '--quiet', 'score-qa', gold, predictions)
    assert code == 0 and quiet_out == out and quiet_err == ''


@pytest.mark.parametrize('content, message', [
    ('["not", "an", "object"]', 'must be one JSON object {question id: answer text}'),
    ('{"q1": 3}', 'must be one JSON object {question id: answer text}'),
    ('{"q1": ', 'is not JSON'),
])
def test_score_qa_refuses_bad_predictions(tmp_path, capsys, content, message):
    gold = _squad_file(tmp_path)
    predictions = tmp_path / 'answers.json'
    predictions.write_text(content, encoding='utf-8')
    code, out, err = run_cli(capsys, 'score-qa', gold, predictions)
    assert code == 2 and out == '' and message in error_line(err, 'score-qa')
    code, out, err = run_cli(capsys, 'score-qa', gold, tmp_path / 'missing.json')
    assert code == 2 and 'does not exist' in error_line(err, 'score-qa')


def test_score_qa_on_a_hash_part_of_korquad(tmp_path, capsys):
    path = require_shared('korquad_v1', 'KorQuAD_v1.0_dev.json')
    from kobert_gluon.tasks.extractive_qa import read_squad
    dev = read_squad('{}#dev'.format(path))
    assert 300 < len(dev) < 900  # measured 537 of 5,774 questions
    predictions = tmp_path / 'answers.json'
    predictions.write_text(json.dumps({qid: golds[0] for qid, golds in dev.golds.items()}, ensure_ascii=False),
                           encoding='utf-8')
    code, out, err = run_cli(capsys, 'score-qa', '{}#dev'.format(path), predictions)
    assert code == 0 and json.loads(out) == {'exact_match': 100.0, 'f1': 100.0} and err == ''
    # against the whole file the other questions have no prediction and score 0
    code, out, err = run_cli(capsys, 'score-qa', path, predictions)
    expected = 100.0 * len(dev) / 5774
    assert json.loads(out) == pytest.approx({'exact_match': expected, 'f1': expected})
    assert '{} of 5774 questions have no prediction'.format(5774 - len(dev)) in err
