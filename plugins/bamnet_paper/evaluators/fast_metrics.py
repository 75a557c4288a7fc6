"""NumPy forms of the binary metrics, for the thousands of calls a bootstrap makes.

scikit-learn computes every reported value; these give the same numbers
(tested against scikit-learn) without its per-call input validation, which
would otherwise dominate a 1000-resample bootstrap.
"""

from __future__ import annotations

import numpy as np


def counts(t: np.ndarray, called: np.ndarray) -> dict[str, int]:
    """tp, fp, tn, fn of boolean truths ``t`` and boolean calls ``called``."""
    tp = int(np.count_nonzero(t & called))
    fp = int(np.count_nonzero(~t & called))
    fn = int(np.count_nonzero(t & ~called))
    return {"tp": tp, "fp": fp, "tn": int(len(t) - tp - fp - fn), "fn": fn}


def roc_points(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FPR, TPR and precision at every distinct threshold, highest first, from (0, 0)."""
    order = np.argsort(-p, kind="mergesort")
    p, t = p[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]
    tps = np.cumsum(t)[last]
    fps = (last + 1) - tps
    pos, neg = max(int(t.sum()), 1), max(int(len(t) - t.sum()), 1)
    precision = tps / (tps + fps)
    return np.r_[0.0, fps / neg], np.r_[0.0, tps / pos], np.r_[1.0, precision]


def roc_auc(t: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (trapezoids; ties handled as scikit-learn does)."""
    fpr, tpr, _ = roc_points(t, p)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(t: np.ndarray, p: np.ndarray) -> float:
    """Average precision: sum over thresholds of (recall step) x precision."""
    _, tpr, precision = roc_points(t, p)
    return float(np.sum(np.diff(tpr) * precision[1:]))


# The same metrics over every bootstrap resample at once. ``w`` is a
# ``(resamples, rows)`` weight matrix (``bamnet_core.contract.patient_weights``):
# a row drawn twice counts twice. Undefined values are NaN.


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` as floats, NaN where ``den`` is zero (an undefined rate)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan),
                     where=den != 0)


def weighted_counts(w: np.ndarray, t: np.ndarray, called: np.ndarray) -> dict[str, np.ndarray]:
    """tp, fp, tn, fn per resample."""
    t, called = np.asarray(t, bool), np.asarray(called, bool)
    return {"tp": w @ (t & called), "fp": w @ (~t & called), "tn": w @ (~t & ~called),
            "fn": w @ (t & ~called)}


def weighted_rates(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sensitivity, specificity, balanced accuracy, PPV, NPV and F1 per resample (as ``rates``)."""
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    sens, spec = ratio(tp, tp + fn), ratio(tn, tn + fp)
    return {"sensitivity": sens, "specificity": spec, "balanced_accuracy": (sens + spec) / 2,
            "ppv": ratio(tp, tp + fp), "npv": ratio(tn, tn + fn),
            "f1": ratio(2 * tp, 2 * tp + fp + fn)}


def weighted_roc_points(w: np.ndarray, t: np.ndarray, p: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`roc_points` per resample, on the split's distinct thresholds.

    A threshold no row of a resample reaches repeats that resample's previous
    point, which changes no area and no interpolated value.
    """
    order = np.argsort(-np.asarray(p), kind="mergesort")
    p, t = np.asarray(p)[order], np.asarray(t, bool)[order]
    w = w[:, order].astype(np.int64)
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]
    tps = np.cumsum(w * t, axis=1)[:, last]
    fps = np.cumsum(w * ~t, axis=1)[:, last]
    pos = np.maximum(tps[:, -1:], 1)
    neg = np.maximum(fps[:, -1:], 1)
    called = tps + fps
    precision = np.divide(tps, called, out=np.ones(tps.shape), where=called > 0)
    zero, one = np.zeros((len(w), 1)), np.ones((len(w), 1))
    return (np.hstack([zero, fps / neg]), np.hstack([zero, tps / pos]),
            np.hstack([one, precision]))


def weighted_auc_ap(w: np.ndarray, t: np.ndarray, p: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """ROC AUC and average precision per resample (NaN where a class is absent), and the points."""
    fpr, tpr, precision = weighted_roc_points(w, t, p)
    auc = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)
    ap = np.sum(np.diff(tpr, axis=1) * precision[:, 1:], axis=1)
    positives = w @ np.asarray(t, bool)
    both = (positives > 0) & (positives < w.sum(axis=1))
    return np.where(both, auc, np.nan), np.where(both, ap, np.nan), (fpr, tpr, precision)
