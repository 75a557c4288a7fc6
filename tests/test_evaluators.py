"""The ``classification`` evaluator on hand-checked predictions."""

from __future__ import annotations

import numpy as np
import pytest

from bamnet_paper.evaluators import ClassificationEvaluator


def test_binary_metrics_with_explicit_positive():
    # classes: normal=0, covid=1; 3 covid (2 caught), 3 normal (1 false alarm)
    y_true = np.array([1, 1, 1, 0, 0, 0])
    p_covid = np.array([0.9, 0.7, 0.2, 0.6, 0.1, 0.3])
    probs = np.stack([1 - p_covid, p_covid], axis=1)
    m = ClassificationEvaluator().evaluate(y_true, probs, class_names=["normal", "covid"],
                                           positive="covid", threshold=0.5)
    assert m["counts"] == {"tp": 2, "fp": 1, "tn": 2, "fn": 1}
    assert m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion_matrix"]["rows_true_cols_pred"] == [[2, 1], [1, 2]]
    assert m["roc_auc"] == pytest.approx(7 / 9)  # 7 of 9 (covid, normal) pairs ranked right


def test_threshold_moves_the_operating_point():
    y_true = np.array([1, 0])
    probs = np.array([[0.6, 0.4], [0.8, 0.2]])
    low = ClassificationEvaluator().evaluate(y_true, probs, class_names=["normal", "covid"],
                                             positive="covid", threshold=0.3)
    assert low["sensitivity"] == 1.0 and low["specificity"] == 1.0


def test_single_class_split_gives_none_not_a_crash():
    probs = np.array([[0.2, 0.8], [0.4, 0.6]])
    m = ClassificationEvaluator().evaluate(np.array([1, 1]), probs,
                                           class_names=["normal", "covid"], positive="covid",
                                           threshold=0.5)
    assert m["specificity"] is None and m["roc_auc"] is None and m["sensitivity"] == 1.0
