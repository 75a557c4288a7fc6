"""``classification``: accuracy, sensitivity, specificity, PPV, NPV, F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bamnet_core.contract import (
    Counts,
    Estimate,
    EvaluationContext,
    Findings,
    Headline,
    HeadlineMetric,
    bootstrap_weighted,
    decide_indices,
)

from . import fast_metrics

# (key, label) of the headline rows, in the order the report shows them.
HEADLINE_ROWS = (("accuracy", "accuracy"), ("sensitivity", "sensitivity (positive class)"),
                 ("specificity", "specificity"), ("roc_auc", "ROC AUC"),
                 ("balanced_accuracy", "balanced accuracy"), ("ppv", "PPV"), ("npv", "NPV"),
                 ("f1", "F1"))


def _ratio(num: int, den: int) -> float | None:
    return float(num / den) if den else None


def binary_counts(y_true: np.ndarray, y_pred: np.ndarray, pos: int) -> dict[str, int]:
    """tp, fp, tn, fn with ``pos`` as the positive class (the others are negative)."""
    from sklearn.metrics import confusion_matrix

    (tn, fp), (fn, tp) = confusion_matrix(y_true == pos, y_pred == pos, labels=[False, True])
    return {"tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn)}


def rates(counts: dict[str, int]) -> dict[str, float | None]:
    """Sensitivity, specificity, PPV, NPV, F1 and balanced accuracy from the counts."""
    tp, fp, tn, fn = counts["tp"], counts["fp"], counts["tn"], counts["fn"]
    sens, spec, ppv = _ratio(tp, tp + fn), _ratio(tn, tn + fp), _ratio(tp, tp + fp)
    return {
        "sensitivity": sens,
        "specificity": spec,
        "balanced_accuracy": (sens + spec) / 2 if sens is not None and spec is not None
        else None,
        "ppv": ppv,
        "npv": _ratio(tn, tn + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


class ClassificationEvaluator:
    """Accuracy, sensitivity, specificity, PPV, NPV, F1, ROC AUC and the confusion matrix.

    The positive class is explicit: a sample is called positive when its
    positive-class probability reaches the threshold; otherwise it gets the
    most probable other class. Sensitivity is measured on the positive class,
    never read off a fixed row of the confusion matrix.
    """

    def evaluate(self, y_true: np.ndarray, y_prob: np.ndarray, *, class_names: Sequence[str],
                 positive: str, threshold: float) -> dict[str, Any]:
        """Compute the metrics (``None`` where a denominator is zero)."""
        from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score

        y_true = np.asarray(y_true)
        y_prob = np.asarray(y_prob)
        pos = list(class_names).index(positive)
        y_pred = decide_indices(y_prob, pos, threshold)
        counts = binary_counts(y_true, y_pred, pos)
        cm = confusion_matrix(y_true, y_pred, labels=list(range(len(class_names))))
        t = y_true == pos
        auc = float(roc_auc_score(t, y_prob[:, pos])) if 0 < t.sum() < len(t) else None
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else None,
            **rates(counts),
            "roc_auc": auc,
            "positive": positive,
            "threshold": threshold,
            "counts": counts,
            "confusion_matrix": {"labels": list(class_names), "rows_true_cols_pred": cm.tolist()},
            "report": _report(y_true, y_pred, class_names),
        }

    def evaluate_context(self, context: EvaluationContext) -> Findings:
        """:meth:`evaluate` with 95% intervals from resampling patients, and the split's
        headline.

        No verdict line: whether the model learned at all is decided by the core from
        the headline ROC-AUC's interval (``bamnet_core.report.verdict``), never from
        the counts at one threshold."""
        split = context.split
        result = self.evaluate(split.y_true, split.y_prob, class_names=context.class_names,
                               positive=context.positive, threshold=context.threshold)
        pos = context.positive_index
        y_pred = decide_indices(split.y_prob, pos, context.threshold)
        t, called, score = split.y_true == pos, y_pred == pos, split.y_prob[:, pos]
        correct = y_pred == split.y_true

        def on(w: np.ndarray) -> dict[str, np.ndarray]:  # every resample at once
            auc, _, _ = fast_metrics.weighted_auc_ap(w, t, score)
            return {"accuracy": fast_metrics.ratio(w @ correct, w.sum(axis=1)),
                    **fast_metrics.weighted_rates(fast_metrics.weighted_counts(w, t, called)),
                    "roc_auc": auc}

        result["intervals"] = bootstrap_weighted(on, split.patients,
                                                 context.bootstrap, context.seed)
        return Findings(results=result, headline=headline(result))


def headline(result: dict[str, Any]) -> Headline:
    """The headline rows of :meth:`ClassificationEvaluator.evaluate`'s result, with their
    intervals and the confusion counts."""
    intervals = result.get("intervals") or {}
    rows = []
    for key, label in HEADLINE_ROWS:
        ci = intervals.get(key) or {}
        rows.append(HeadlineMetric(key=key, label=label, estimate=Estimate(
            value=result.get(key), low=ci.get("low"), high=ci.get("high"))))
    return Headline(metrics=tuple(rows), counts=Counts(**result["counts"]))


def _report(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """scikit-learn's classification report (precision, recall, F1, support per class)."""
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred,
                                                 labels=list(range(len(class_names))),
                                                 zero_division=0)
    return {name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                   "support": int(s[i])} for i, name in enumerate(class_names)}
