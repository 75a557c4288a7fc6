"""``calibration``: the reliability curve, expected calibration error and Brier score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bamnet_core.contract import EvaluationContext, bootstrap_weighted

BINS = 10


class CalibrationEvaluator:
    """How far the positive-class probability can be read as a frequency.

    ``ece`` is the expected calibration error over 10 equal-width bins: the
    image-weighted mean gap between the mean predicted probability and the
    observed positive rate in each bin.
    """

    def evaluate(self, y_true: np.ndarray, y_prob: np.ndarray, *, class_names: Sequence[str],
                 positive: str, threshold: float) -> dict[str, Any]:
        """Reliability curve (``bins``), ``ece`` and ``brier`` (None on an empty split)."""
        from sklearn.metrics import brier_score_loss

        pos = list(class_names).index(positive)
        t = (np.asarray(y_true) == pos).astype(float)
        p = np.clip(np.asarray(y_prob, dtype=float)[:, pos], 0.0, 1.0)
        if not len(t):
            return {"ece": None, "brier": None, "bins": []}
        edges = np.linspace(0.0, 1.0, BINS + 1)
        which = np.clip(np.digitize(p, edges[1:-1]), 0, BINS - 1)
        bins, ece = [], 0.0
        for b in range(BINS):
            mask = which == b
            if not mask.any():
                continue
            conf, freq = float(p[mask].mean()), float(t[mask].mean())
            ece += mask.sum() / len(t) * abs(conf - freq)
            bins.append({"low": float(edges[b]), "high": float(edges[b + 1]),
                         "mean_predicted": conf, "observed": freq, "images": int(mask.sum())})
        return {"ece": float(ece), "brier": float(brier_score_loss(t, p, pos_label=1.0)),
                "bins": bins}

    def evaluate_context(self, context: EvaluationContext) -> dict[str, Any]:
        """:meth:`evaluate`, plus 95% intervals of ECE and Brier score over patients."""
        split = context.split
        result = self.evaluate(split.y_true, split.y_prob, class_names=context.class_names,
                               positive=context.positive, threshold=context.threshold)
        t = (split.y_true == context.positive_index).astype(float)
        p = np.clip(np.asarray(split.y_prob, dtype=float)[:, context.positive_index], 0, 1)
        result["intervals"] = bootstrap_weighted(lambda w: weighted_ece_brier(w, t, p),
                                                 split.patients,
                                                 context.bootstrap, context.seed)
        return result


def ece_brier(t: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """ECE over 10 equal-width bins and the Brier score, in NumPy (for the bootstrap)."""
    if not len(t):
        return {"ece": None, "brier": None}
    which = np.clip(np.digitize(p, np.linspace(0.0, 1.0, BINS + 1)[1:-1]), 0, BINS - 1)
    size = np.bincount(which, minlength=BINS)
    conf = np.bincount(which, weights=p, minlength=BINS)
    freq = np.bincount(which, weights=t, minlength=BINS)
    ece = float(np.sum(np.abs(conf - freq)) / len(t))
    return {"ece": ece if size.sum() else None, "brier": float(np.mean((p - t) ** 2))}


def weighted_ece_brier(w: np.ndarray, t: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`ece_brier` for every resample of a ``(resamples, rows)`` weight matrix at once."""
    which = np.clip(np.digitize(p, np.linspace(0.0, 1.0, BINS + 1)[1:-1]), 0, BINS - 1)
    member = np.eye(BINS)[which]  # rows x bins
    total = w.sum(axis=1).astype(float)
    gap = np.abs(w @ (member * p[:, None]) - w @ (member * t[:, None])).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"ece": np.where(total > 0, gap / total, np.nan),
                "brier": np.where(total > 0, w @ ((p - t) ** 2) / total, np.nan)}
