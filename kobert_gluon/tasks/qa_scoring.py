"""KorQuAD 1.0's official scores: exact match and character-level F1, best over the gold answers, in percent.

Written from the definition in KorQuAD 1.0's evaluation script (``evaluate-v1.0.py``): an answer is normalised by
turning the quotes and brackets ``' " 《 》 < > 〈 〉 ( ) ‘ ’`` into spaces, lower-casing, dropping ASCII punctuation
and collapsing whitespace; exact match compares the normalised strings; F1 counts the characters (spaces left out)
the prediction and the gold answer have in common, as multisets. A question without a prediction scores 0 (the
script says so on stderr; :func:`score_predictions` returns the count as ``unanswered``).
"""
import re
import string
from collections import Counter
from typing import Dict, List, Mapping, Sequence

__all__ = ['normalize_answer', 'exact_match', 'char_f1', 'score_predictions', 'gold_answers']

_SPACED = re.compile('[\'"《》<>〈〉()‘’]')
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    text = _SPACED.sub(' ', text).lower()
    text = ''.join(char for char in text if char not in _PUNCTUATION)
    return ' '.join(text.split())


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def char_f1(prediction: str, truth: str) -> float:
    predicted = list(normalize_answer(prediction).replace(' ', ''))
    gold = list(normalize_answer(truth).replace(' ', ''))
    same = sum((Counter(predicted) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def gold_answers(dataset: Mapping) -> Dict[str, List[str]]:
    """``{question id: [gold answer texts]}`` of a SQuAD-format document (``{"data": [...]}``)."""
    answers = {}
    for article in dataset['data']:
        for paragraph in article['paragraphs']:
            for qa in paragraph['qas']:
                answers[qa['id']] = [answer['text'] for answer in qa['answers']]
    return answers


def score_predictions(golds: Mapping[str, Sequence[str]], predictions: Mapping[str, str]) -> Dict[str, float]:
    """``{"exact_match", "f1"}`` in percent over every question of ``golds`` (``{id: [answers]}``), plus the number
    of questions and of those without a prediction."""
    em = f1 = 0.0
    unanswered = 0
    for qid, truths in golds.items():
        if qid not in predictions:
            unanswered += 1
            continue
        prediction = predictions[qid]
        em += max(exact_match(prediction, truth) for truth in truths)
        f1 += max(char_f1(prediction, truth) for truth in truths)
    total = len(golds)
    return {'exact_match': 100.0 * em / total if total else 0.0, 'f1': 100.0 * f1 / total if total else 0.0,
            'questions': total, 'unanswered': unanswered}
