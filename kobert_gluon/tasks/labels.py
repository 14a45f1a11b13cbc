"""The class labels of a training set: counted and shown, and one seen in too few rows refused as a stray value.

A label a model learns is whatever values the training file's label column (or its entity tags) holds, unless the
task lists its labels. One stray value ("positive" among 0/1, a typo such as ``B-PSS``, a header line pasted into
the middle) would otherwise become a class of its own without a word. So every task structure with class labels
(tables, tagged text) hands its training labels, with the file lines they are on, to :func:`check_label_counts`
before anything is built: the counts are logged (and saved in run.json by the structure's report), and a label
seen fewer than ``min_label_count`` times is refused, naming it, its count and its lines, unless the task lists
its labels (then a value outside the list is an error where the file is read) or ``min_label_count`` is 0 or 1.
"""
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ..core.checks import RuleError

__all__ = ['label_lines', 'check_label_counts', 'sorted_labels']

_SHOWN_LINES = 5


def label_lines(pairs: Iterable[Tuple[str, int]]) -> Dict[str, List[int]]:
    """``{label: [file lines it is on]}`` from ``(label, line)`` pairs, labels in first-seen order."""
    lines: Dict[str, List[int]] = {}
    for label, line in pairs:
        lines.setdefault(label, []).append(line)
    return lines


def check_label_counts(lines: Dict[str, List[int]], where: str, minimum: int, listed: Optional[Sequence[str]],
                       log: Callable[[str], None], unit: str = 'rows') -> Dict[str, int]:
    """Log how often each label occurs in ``where`` and refuse one seen fewer than ``minimum`` times (unless the
    task ``listed`` its labels); returns ``{label: count}`` in the labels' order (the listed order, or sorted)."""
    order = list(listed) if listed is not None else sorted_labels(lines)
    counts = {label: len(lines.get(label, ())) for label in order}
    log('{}: {} per label: {}'.format(where, unit, ', '.join('{} {:,}'.format(label, count)
                                                             for label, count in counts.items())))
    if listed is not None or minimum <= 1:
        return counts
    rare = sorted((label for label in counts if counts[label] < minimum), key=lambda label: counts[label])
    if rare:
        label, count = rare[0], counts[rare[0]]
        shown = ', '.join(str(line) for line in lines[label][:_SHOWN_LINES])
        others = ' (and {} more such label{}: {})'.format(len(rare) - 1, 's' if len(rare) > 2 else '',
                                                           ', '.join(map(repr, rare[1:4]))) if len(rare) > 1 else ''
        raise RuleError(
            _escaped('{}: label {!r} is on only {} {} (line{} {}{}), fewer than '.format(
                where, label, count, unit if count != 1 else _singular(unit), 's' if count > 1 else '', shown,
                ', ...' if count > _SHOWN_LINES else ''))
            + '{min_label_count}=' + str(minimum) + _escaped(
                '{}: a stray value would be learnt as a class of its own. Fix the data, or accept it with '
                .format(others)) + '{min_label_count}=' + str(max(count, 1)),
            {'min_label_count': 'min_label_count'})
    return counts


def _singular(unit: str) -> str:
    return unit[:-3] + 'y' if unit.endswith('ies') else unit[:-1] if unit.endswith('s') else unit


def _escaped(text: str) -> str:
    return text.replace('{', '{{').replace('}', '}}')


def sorted_labels(labels: Iterable[str]) -> List[str]:
    """Labels in the order a classifier's classes take when the task lists none (as :func:`.datasets.infer_labels`
    sorts them: integers numerically, before the rest in text order)."""
    return sorted(labels, key=_label_key)


def _label_key(label: str):
    """Integers in numeric order before other labels in text order (as :func:`.datasets.infer_labels` sorts)."""
    stripped = label.lstrip('-')
    return (0, int(label), '') if stripped.isdigit() else (1, 0, label)
