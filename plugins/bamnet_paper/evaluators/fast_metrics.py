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
