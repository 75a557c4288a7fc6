"""``roc``: ROC and precision-recall curves and areas, with patient-bootstrap bands.

The operating threshold is chosen on the validation split, the highest
positive-class cut-off that reaches ``[evaluate] target_sensitivity`` there,
and then applied unchanged to the evaluated split, so the test numbers at that
threshold are not tuned on test.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bamnet_core.contract import (
    EvaluationContext,
    patient_weights,
    percentile_interval,
    threshold_for_sensitivity,
)

from . import fast_metrics
from .classification import binary_counts, rates

GRID = np.linspace(0.0, 1.0, 51)  # the FPR / recall grid the bands are drawn on


def _both_classes(t: np.ndarray) -> bool:
    return 0 < int(t.sum()) < len(t)


def curves(t: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """ROC AUC, PR AUC (average precision), TPR on the FPR grid and precision on the recall grid."""
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    fpr, tpr, _ = roc_curve(t, p)
    precision, recall, _ = precision_recall_curve(t, p)
    order = np.argsort(recall)
    return {
        "roc_auc": float(roc_auc_score(t, p)),
        "pr_auc": float(average_precision_score(t, p)),
        "tpr_at": np.interp(GRID, fpr, tpr),
        "precision_at": np.interp(GRID, recall[order], precision[order]),
    }


def fast_curves(t: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """:func:`curves` in NumPy, for the bootstrap."""
    fpr, tpr, precision = fast_metrics.roc_points(t, p)
    return {"roc_auc": fast_metrics.roc_auc(t, p), "pr_auc": fast_metrics.average_precision(t, p),
            "tpr_at": np.interp(GRID, fpr, tpr), "precision_at": np.interp(GRID, tpr, precision)}


def bootstrap_curves(w: np.ndarray, t: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`fast_curves` of every resample holding both classes, from weights ``(b, rows)``.

    :returns: ``roc_auc``, ``pr_auc`` ``(kept,)`` and ``tpr_at``, ``precision_at``
        ``(kept, len(GRID))``, for the resamples with both classes, in order.
    """
    positives = w @ t
    w = w[(positives > 0) & (positives < w.sum(axis=1))]
    auc, ap, (fpr, tpr, precision) = fast_metrics.weighted_auc_ap(w, t, p)
    return {"roc_auc": auc, "pr_auc": ap,
            "tpr_at": np.array([np.interp(GRID, f, r) for f, r in zip(fpr, tpr, strict=True)]
                               ).reshape(len(w), len(GRID)),
            "precision_at": np.array([np.interp(GRID, r, q) for r, q in
                                      zip(tpr, precision, strict=True)]
                                     ).reshape(len(w), len(GRID))}


class RocEvaluator:
    """ROC-AUC and PR-AUC with curve points and 95% patient-bootstrap intervals and bands."""

    def evaluate_context(self, context: EvaluationContext) -> dict[str, Any]:
        """Areas, curve bands and the validation-chosen operating point on ``context.split``."""
        pos = context.positive_index
        split = context.split
        t = split.y_true == pos
        p = np.asarray(split.y_prob, dtype=float)[:, pos]
        result: dict[str, Any] = {"grid": GRID.tolist()}
        if _both_classes(t):
            main = curves(t, p)
            draws = bootstrap_curves(patient_weights(split.patients,
                                                     context.bootstrap,
                                                     context.seed), t, p)
            result.update(roc_auc=main["roc_auc"], pr_auc=main["pr_auc"],
                          tpr=main["tpr_at"].tolist(), precision=main["precision_at"].tolist())
            result["intervals"] = {k: percentile_interval(draws[k].tolist())
                                   for k in ("roc_auc", "pr_auc")}
            if len(draws["roc_auc"]):
                for key, band in (("tpr_at", "tpr_band"), ("precision_at", "precision_band")):
                    stack = draws[key]
                    result[band] = {"low": np.percentile(stack, 2.5, axis=0).tolist(),
                                    "high": np.percentile(stack, 97.5, axis=0).tolist()}
        else:
            result.update(roc_auc=None, pr_auc=None,
                          note="the split holds one class only; no curve is defined")
        result["operating_point"] = self._operating_point(context, t, p)
        return result

    def _operating_point(self, context: EvaluationContext, t: np.ndarray,
                         p: np.ndarray) -> dict[str, Any]:
        target = context.target_sensitivity
        val = context.validation
        chosen_on = val.name if val is not None else context.split.name
        ref_t = (val.y_true == context.positive_index) if val is not None else t
        ref_p = (np.asarray(val.y_prob, dtype=float)[:, context.positive_index]
                 if val is not None else p)
        threshold = threshold_for_sensitivity(ref_t, ref_p, target)
        out: dict[str, Any] = {"target_sensitivity": target, "chosen_on": chosen_on,
                               "threshold": threshold}
        if threshold is None:
            out["note"] = f"no positive images in {chosen_on}; no threshold chosen"
            return out
        pred = np.where(p >= threshold, context.positive_index, -1)
        counts = binary_counts(np.where(t, context.positive_index, -2), pred,
                               context.positive_index)
        out.update(counts=counts, **{k: rates(counts)[k] for k in ("sensitivity", "specificity")})
        return out
