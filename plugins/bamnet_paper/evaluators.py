"""Built-in evaluators. ``classification``: accuracy, sensitivity, specificity and more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bamnet_core.contract import decide_indices, hookimpl


def _ratio(num: int, den: int) -> float | None:
    return float(num / den) if den else None


class ClassificationEvaluator:
    """Accuracy, sensitivity, specificity, PPV, NPV, F1, ROC AUC and the confusion matrix.

    The positive class is explicit: a sample is called positive when its
    positive-class probability reaches the threshold; otherwise it gets the
    most probable other class.
    """

    def evaluate(self, y_true: np.ndarray, y_prob: np.ndarray, *, class_names: Sequence[str],
                 positive: str, threshold: float) -> dict[str, Any]:
        """Compute the metrics (``None`` where a denominator is zero)."""
        from sklearn.metrics import roc_auc_score

        y_true = np.asarray(y_true)
        y_prob = np.asarray(y_prob)
        pos = list(class_names).index(positive)
        y_pred = decide_indices(y_prob, pos, threshold)
        t, p = y_true == pos, y_pred == pos
        tp, tn = int((t & p).sum()), int((~t & ~p).sum())
        fp, fn = int((~t & p).sum()), int((t & ~p).sum())
        k = len(class_names)
        cm = np.zeros((k, k), dtype=int)
        for a, b in zip(y_true, y_pred, strict=True):
            cm[a, b] += 1
        sens, spec = _ratio(tp, tp + fn), _ratio(tn, tn + fp)
        ppv = _ratio(tp, tp + fp)
        auc = float(roc_auc_score(t, y_prob[:, pos])) if 0 < t.sum() < len(t) else None
        return {
            "accuracy": _ratio(int((y_pred == y_true).sum()), len(y_true)),
            "sensitivity": sens,
            "specificity": spec,
            "balanced_accuracy": (sens + spec) / 2 if sens is not None and spec is not None
            else None,
            "ppv": ppv,
            "npv": _ratio(tn, tn + fn),
            "f1": (2 * ppv * sens / (ppv + sens)) if ppv and sens else 0.0,
            "roc_auc": auc,
            "positive": positive,
            "threshold": threshold,
            "counts": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
            "confusion_matrix": {"labels": list(class_names), "rows_true_cols_pred": cm.tolist()},
        }


@hookimpl
def register_evaluators(register):
    """Register the built-in evaluators."""
    register("classification", ClassificationEvaluator)
