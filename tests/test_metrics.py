"""Metrics against values computed by hand."""
import math

import numpy as np
import pytest

from kobert_gluon.tasks.metrics import (accuracy, classification_metrics, confusion_matrix, f1_per_class, macro_f1,
                                        pearson, rankdata, regression_metrics, spearman)

Y_TRUE = [0, 0, 1, 1, 2, 2]
Y_PRED = [0, 1, 1, 1, 2, 0]


def test_accuracy_and_confusion_matrix():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(4 / 6)
    assert confusion_matrix(Y_TRUE, Y_PRED, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_f1_per_class_and_macro_by_hand():
    # class 0: TP 1, predicted 2, actual 2 -> 2/4; class 1: TP 2, predicted 3, actual 2 -> 4/5;
    # class 2: TP 1, predicted 1, actual 2 -> 2/3
    assert f1_per_class(Y_TRUE, Y_PRED, 3) == pytest.approx([0.5, 0.8, 2 / 3])
    assert macro_f1(Y_TRUE, Y_PRED, 3) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_absent_class_counts_as_zero_in_macro_f1():
    # class 2 never occurs and is never predicted: F1 0, and it still counts in the macro average
    assert f1_per_class([0, 1], [0, 1], 3).tolist() == [1.0, 1.0, 0.0]
    assert macro_f1([0, 1], [0, 1], 3) == pytest.approx(2 / 3)


def test_classification_metrics_names_classes():
    metrics = classification_metrics(Y_TRUE, Y_PRED, ['none', 'offensive', 'hate'])
    assert metrics['f1_offensive'] == pytest.approx(0.8)
    assert metrics['accuracy'] == pytest.approx(4 / 6)


def test_pearson_by_hand():
    # dx = [-1.5, -.5, .5, 1.5], dy = [-1.75, .25, 1.25, .25]: sum dx*dy = 3.5, sum dx^2 = 5, sum dy^2 = 4.75
    assert pearson([1, 2, 3, 4], [2, 4, 5, 4]) == pytest.approx(3.5 / math.sqrt(5 * 4.75))
    assert pearson([1, 2, 3], [-2, -4, -6]) == pytest.approx(-1.0)


def test_ranks_average_ties():
    assert rankdata([10, 20, 10, 30, 20]).tolist() == [1.5, 3.5, 1.5, 5.0, 3.5]


def test_spearman_with_ties_by_hand():
    # ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]: sum dx*dy = 4.5, sum dx^2 = 4.5, sum dy^2 = 5
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))
    # monotone but not linear: Spearman 1, Pearson below 1
    x = np.array([1.0, 2, 3, 4, 5])
    assert spearman(x, x ** 3) == pytest.approx(1.0)
    assert pearson(x, x ** 3) < 0.99


def test_regression_metrics_and_undefined_correlation():
    metrics = regression_metrics([0.0, 1.0, 2.0], [0.5, 1.0, 2.0])
    assert metrics['mse'] == pytest.approx(0.25 / 3)
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_metric_input_errors():
    with pytest.raises(ValueError, match='3 values but y_pred has 2'):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match='zero examples'):
        accuracy([], [])
    with pytest.raises(ValueError, match=r'\[0, 2\)'):
        confusion_matrix([0, 2], [0, 1], 2)
