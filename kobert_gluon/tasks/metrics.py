"""Evaluation metrics for fine-tuned heads, in plain numpy (no sklearn/scipy dependency).

Classification: accuracy, per-class and macro-averaged F1. Regression: Pearson and Spearman correlation (with
average ranks for ties, as ``scipy.stats.spearmanr`` does) and mean squared error.
"""
from typing import Dict, Sequence

import numpy as np

from ..core.errors import InputError

__all__ = ['accuracy', 'confusion_matrix', 'f1_per_class', 'macro_f1', 'pearson', 'spearman', 'rankdata',
           'classification_metrics', 'regression_metrics']


def _as_1d(values, name):
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError('{} must be one-dimensional, got shape {}'.format(name, array.shape))
    return array


def _check_pair(y_true, y_pred):
    y_true, y_pred = _as_1d(y_true, 'y_true'), _as_1d(y_pred, 'y_pred')
    if len(y_true) != len(y_pred):
        raise ValueError('y_true has {} values but y_pred has {}'.format(len(y_true), len(y_pred)))
    if len(y_true) == 0:
        raise InputError('cannot compute a metric over zero examples')
    return y_true, y_pred


def accuracy(y_true, y_pred) -> float:
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """``matrix[t, p]`` = number of examples of true class ``t`` predicted as ``p``."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    if y_true.min() < 0 or y_pred.min() < 0 or max(y_true.max(), y_pred.max()) >= num_classes:
        raise ValueError('class ids must lie in [0, {})'.format(num_classes))
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def f1_per_class(y_true, y_pred, num_classes: int) -> np.ndarray:
    """F1 of each class; a class that is neither present nor predicted gets 0 (sklearn's zero_division=0)."""
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    denominator = predicted + actual  # F1 = 2TP / (2TP + FP + FN) = 2TP / (predicted + actual)
    return np.divide(2 * true_positive, denominator, out=np.zeros(num_classes), where=denominator > 0)


def macro_f1(y_true, y_pred, num_classes: int) -> float:
    """Unweighted mean of the per-class F1 over all ``num_classes`` classes."""
    return float(np.mean(f1_per_class(y_true, y_pred, num_classes)))


def rankdata(values) -> np.ndarray:
    """1-based ranks; tied values share the average of the ranks they span."""
    values = _as_1d(values, 'values')
    order = np.argsort(values, kind='mergesort')
    sorted_values = values[order]
    # Start index of each run of equal values in sorted order.
    starts = np.concatenate(([True], sorted_values[1:] != sorted_values[:-1]))
    run_id = np.cumsum(starts) - 1
    run_start = np.flatnonzero(starts)
    run_end = np.concatenate((run_start[1:], [len(values)]))  # exclusive
    average_rank = (run_start + run_end + 1) / 2.0  # mean of ranks run_start+1 .. run_end
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = average_rank[run_id]
    return ranks


def pearson(x, y) -> float:
    """Pearson correlation; NaN when either side is constant (correlation is undefined there)."""
    x, y = _check_pair(x, y)
    x, y = x.astype(np.float64), y.astype(np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    denominator = np.sqrt(np.sum(dx * dx) * np.sum(dy * dy))
    if denominator == 0:
        return float('nan')
    return float(np.sum(dx * dy) / denominator)


def spearman(x, y) -> float:
    """Spearman rank correlation: Pearson correlation of the (tie-averaged) ranks."""
    x, y = _check_pair(x, y)
    return pearson(rankdata(x), rankdata(y))


def classification_metrics(y_true, y_pred, labels: Sequence[str]) -> Dict[str, float]:
    """``accuracy``, ``macro_f1`` and ``f1_<label>`` for every class."""
    num_classes = len(labels)
    per_class = f1_per_class(y_true, y_pred, num_classes)
    result = {'accuracy': accuracy(y_true, y_pred), 'macro_f1': float(np.mean(per_class))}
    result.update({'f1_{}'.format(label): float(value) for label, value in zip(labels, per_class)})
    return result


def regression_metrics(y_true, y_pred) -> Dict[str, float]:
    """``pearson``, ``spearman`` and ``mse``."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    error = y_pred.astype(np.float64) - y_true.astype(np.float64)
    return {'pearson': pearson(y_true, y_pred), 'spearman': spearman(y_true, y_pred),
            'mse': float(np.mean(error * error))}
