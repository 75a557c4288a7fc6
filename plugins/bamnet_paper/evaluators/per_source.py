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

from bamnet_core.contract import (
    EvaluationContext,
    EvidenceLine,
    Findings,
    bootstrap_weighted,
    decide_indices,
    number_text,
)

from . import fast_metrics
from .classification import rates

LOSO_FLOOR = 0.5
MIN_CLASS_IMAGES = 5  # a held-out rate on fewer images of its class is shown, not judged


def source_metrics(y_true: np.ndarray, y_prob: np.ndarray, pos: int,
                   threshold: float) -> dict[str, Any]:
    """Images, positives, accuracy, sensitivity and specificity of one group of rows."""
    y_pred = decide_indices(y_prob, pos, threshold) if len(y_true) else np.zeros(0, int)
    r = rates(fast_metrics.counts(y_true == pos, y_pred == pos))
    return {"images": int(len(y_true)), "positives": int((y_true == pos).sum()),
            "accuracy": float((y_pred == y_true).mean()) if len(y_true) else None,
            "sensitivity": r["sensitivity"], "specificity": r["specificity"]}


def _judged(entry: dict[str, Any]) -> dict[str, float | None]:
    """The held-out rates whose class has at least :data:`MIN_CLASS_IMAGES` images in the
    source (all of them when the counts are unknown)."""
    images, positives = entry.get("images"), entry.get("positives")
    counts = {"sensitivity": positives, "specificity": None if images is None or positives
              is None else images - positives}
    return {k: entry.get(k) if counts[k] is None or counts[k] >= MIN_CLASS_IMAGES else None
            for k in counts}


def _rate_text(entry: dict[str, Any], key: str) -> str:
    positives, images = entry.get("positives"), entry.get("images")
    n = positives if key == "sensitivity" else (None if positives is None or images is None
                                                else images - positives)
    if entry.get(key) is not None and _judged(entry)[key] is None:
        return f"too few (n = {n})"
    return number_text(entry.get(key))


def _held_out_text(source: str, entry: dict[str, Any]) -> str:
    """``ward (held out, 12 images): sens 0.25, spec -``: the rates a source's own images
    give ("too few (n = 3)" where its class has fewer than :data:`MIN_CLASS_IMAGES`)."""
    count = f" (held out, {entry['images']} images)" if entry.get("images") is not None else ""
    return (f"{source}{count}: sens {_rate_text(entry, 'sensitivity')}, spec "
            f"{_rate_text(entry, 'specificity')}")


class PerSourceEvaluator:
    """Sensitivity on each source's positive images, specificity on its negatives.

    :param loso_floor: a held-out source (``bamnet loso``) whose sensitivity or
        specificity falls below this: some shortcut evidence.
    """

    def __init__(self, *, loso_floor: float = LOSO_FLOOR) -> None:
        if not 0.0 <= loso_floor <= 1.0:
            raise ValueError(f"loso_floor must be 0 to 1, not {loso_floor}")
        self.loso_floor = loso_floor

    def evaluate_context(self, context: EvaluationContext) -> Findings:
        """The per-source results; with held-out sources, the leave-one-source-out line."""
        results = self.measure(context)
        line = self.line(results.get("held_out") or {})
        return Findings(results=results, evidence=(line,) if line else ())

    def line(self, held: dict[str, Any]) -> EvidenceLine | None:
        """The leave-one-source-out verdict line of models trained once per held-out
        source (None without them)."""
        if not held:
            return None
        low = [src for src, e in held.items() for rate in _judged(e).values()
               if isinstance(rate, (int, float)) and rate < self.loso_floor]
        finding = "; ".join(_held_out_text(src, e) for src, e in held.items())
        rule = (f"some: a held-out source's sensitivity or specificity < {self.loso_floor:g} "
                f"(on at least {MIN_CLASS_IMAGES} images of its class)")
        if low:
            return EvidenceLine(key="loso", label="leave one source out", level="some",
                                finding=finding, meaning="on a source it never saw, the model "
                                "fails: it learned the sources", rule=rule)
        return EvidenceLine(key="loso", label="leave one source out", level="none",
                            finding=finding, meaning="the model holds up on sources it never "
                            "saw", rule=rule)

    def measure(self, context: EvaluationContext) -> dict[str, Any]:
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
                                                    context.bootstrap,
                                                    context.seed)
            out[source] = entry
        result: dict[str, Any] = {"mode": "evaluate per source", "sources": out}
        if "held_out" in context.extra:
            result["held_out"] = context.extra["held_out"]
            result["mode"] = "train once per held-out source"
        return result
