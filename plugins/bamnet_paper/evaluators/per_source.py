"""``per-source``: results on each source of the evaluated split (``bamnet loso`` retrains instead).

A model that learned hospitals rather than disease does well on the sources it
trained on and badly elsewhere. Per source this reports the images, the
sensitivity on its positive images and the specificity on its negative ones,
with patient-bootstrap intervals. Results of models trained once per held-out
source, when the core passes them in ``context.extra["held_out"]``, are
reported here as well.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bamnet_core.contract import EvaluationContext, bootstrap_weighted, decide_indices

from . import fast_metrics
from .classification import rates


def source_metrics(y_true: np.ndarray, y_prob: np.ndarray, pos: int,
                   threshold: float) -> dict[str, Any]:
    """Images, positives, accuracy, sensitivity and specificity of one group of rows."""
    y_pred = decide_indices(y_prob, pos, threshold) if len(y_true) else np.zeros(0, int)
    r = rates(fast_metrics.counts(y_true == pos, y_pred == pos))
    return {"images": int(len(y_true)), "positives": int((y_true == pos).sum()),
            "accuracy": float((y_pred == y_true).mean()) if len(y_true) else None,
            "sensitivity": r["sensitivity"], "specificity": r["specificity"]}


class PerSourceEvaluator:
    """Sensitivity on each source's positive images, specificity on its negatives."""

    def evaluate_context(self, context: EvaluationContext) -> dict[str, Any]:
        """One entry per source of ``context.split``, with intervals."""
        split, pos = context.split, context.positive_index
        sources = split.sources
        patients = split.patients
        out: dict[str, Any] = {}
        for source in sorted(set(sources)):
            rows = np.flatnonzero(sources == source)
            yt, yp = split.y_true[rows], split.y_prob[rows]
            entry = source_metrics(yt, yp, pos, context.threshold)

            decided = decide_indices(yp, pos, context.threshold)
            t, called, correct = yt == pos, decided == pos, decided == yt

            def on(w: np.ndarray, t: np.ndarray = t, called: np.ndarray = called,
                   correct: np.ndarray = correct) -> dict[str, np.ndarray]:
                r = fast_metrics.weighted_rates(fast_metrics.weighted_counts(w, t, called))
                return {"accuracy": fast_metrics.ratio(w @ correct, w.sum(axis=1)),
                        "sensitivity": r["sensitivity"], "specificity": r["specificity"]}

            entry["intervals"] = bootstrap_weighted(on, patients[rows],
                                                    int(context.settings["bootstrap"]),
                                                    context.seed)
            out[source] = entry
        result: dict[str, Any] = {"mode": "evaluate per source", "sources": out}
        if "held_out" in context.extra:
            result["held_out"] = context.extra["held_out"]
            result["mode"] = "train once per held-out source"
        return result
