"""Does the model work for everyone? Metrics by source, view, sex and age band.

For each attribute the data knows (at least two groups with a value), every
group with enough images gets its accuracy, sensitivity, specificity and
ROC-AUC (where it holds both classes), with a patient-bootstrap interval on
accuracy. A group is ``worse`` when the bootstrap interval of its accuracy
minus the accuracy of all other images lies wholly below zero: a difference
that resampling patients does not explain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..contract.decision import decide_indices
from ..contract.sample import Sample
from ..data.patient_bootstrap import binary_auc, weighted_bootstrap, weighted_mean

MIN_IMAGES = 5
REPLICATES = 500
AGE_BANDS = ((0, 18, "0-17"), (18, 40, "18-39"), (40, 60, "40-59"), (60, 80, "60-79"),
             (80, 200, "80+"))


def age_band(sample: Sample) -> str | None:
    """The age band of a sample, or None when its age is unknown."""
    try:
        age = float(sample.demographics.get("age"))
    except (TypeError, ValueError):
        return None
    return next((name for lo, hi, name in AGE_BANDS if lo <= age < hi), None)


def sex_of(sample: Sample) -> str | None:
    """``F``, ``M``, or None, from ``demographics["sex"]`` in any common spelling."""
    text = str(sample.demographics.get("sex") or "").strip().lower()
    if text in ("f", "female", "woman", "w"):
        return "F"
    return "M" if text in ("m", "male", "man") else None


ATTRIBUTES = {
    "source": lambda s: s.source or None,
    "view": lambda s: s.view or None,
    "sex": sex_of,
    "age_band": age_band,
}


def _rates(y: np.ndarray, pred: np.ndarray, pos: int) -> dict[str, float | None]:
    p, n = y == pos, y != pos

    def share(hit: np.ndarray, of: np.ndarray) -> float | None:
        return round(float(hit[of].mean()), 4) if of.any() else None

    return {"accuracy": share(pred == y, np.ones_like(p)), "sensitivity": share(pred == pos, p),
            "specificity": share(pred != pos, n)}


def subgroup_metrics(samples: Sequence[Sample], y_true: np.ndarray, probs: np.ndarray, *,
                     classes: Sequence[str], positive: str, threshold: float, split: str,
                     seed: int = 0, min_images: int = MIN_IMAGES) -> dict[str, Any]:
    """Per-group metrics on one split's predictions.

    :param samples: the split's samples, in the order of ``y_true`` and ``probs``.
    :returns: ``{"split", "by": {attribute: [group, ...]}, "worse": [...]}``;
        each group has ``group``, ``images``, ``patients``, ``accuracy`` with
        ``accuracy_interval``, ``sensitivity``, ``specificity``, ``auc``,
        ``difference`` (accuracy minus the rest's) with its interval, and ``worse``.
    """
    pos = list(classes).index(positive)
    y = np.asarray(y_true)
    pred = decide_indices(probs, pos, threshold)
    patients = [s.patient_id for s in samples]
    correct = (pred == y).astype(np.float64)
    result: dict[str, Any] = {"split": split, "min_images": min_images, "by": {}, "worse": []}
    for attribute, value_of in ATTRIBUTES.items():
        values = np.array([value_of(s) or "unknown" for s in samples], dtype=object)
        known = sorted({v for v in values if v != "unknown"})
        if len(known) < 2:
            continue
        groups = []
        for group in [*known, "unknown"]:
            inside = values == group
            if inside.sum() < min_images:
                continue
            groups.append(_group(group, inside, y, pred, probs[:, pos], pos, correct,
                                 patients, seed))
            if groups[-1]["worse"]:
                result["worse"].append(f"{attribute}={group}")
        if groups:
            result["by"][attribute] = groups
    return result


def _group(name: str, inside: np.ndarray, y: np.ndarray, pred: np.ndarray, score: np.ndarray,
           pos: int, correct: np.ndarray, patients: list[str], seed: int) -> dict[str, Any]:
    idx = np.flatnonzero(inside)
    rates = _rates(y[idx], pred[idx], pos)
    auc = binary_auc(y[idx] == pos, score[idx])
    mine = [patients[i] for i in idx]
    interval = weighted_bootstrap(lambda w: weighted_mean(w, correct[idx]), mine,
                                  replicates=REPLICATES, seed=seed)

    def difference(w: np.ndarray) -> np.ndarray:  # NaN where a side has no row
        return weighted_mean(w[:, inside], correct[inside]) \
            - weighted_mean(w[:, ~inside], correct[~inside])

    gap = float(correct[inside].mean() - correct[~inside].mean()) if (~inside).any() else None
    gap_interval = weighted_bootstrap(difference, patients, replicates=REPLICATES, seed=seed) \
        if gap is not None else None
    return {"group": name, "images": int(len(idx)), "patients": len(set(mine)),
            "positives": int((y[idx] == pos).sum()), **rates,
            "accuracy_interval": interval,
            "auc": None if auc is None else round(auc, 4),
            "difference": None if gap is None else round(gap, 4),
            "difference_interval": gap_interval,
            "worse": gap_interval is not None and gap_interval[1] < 0}


def subgroup_warnings(result: dict[str, Any]) -> list[str]:
    """One sentence per group that does significantly worse than the rest."""
    out = []
    for attribute, groups in result.get("by", {}).items():
        for g in groups:
            if g["worse"]:
                low, high = g["difference_interval"]
                out.append(f"{attribute} = {g['group']!r} does worse on the {result['split']} "
                           f"split: accuracy {g['accuracy']:.2f}, {g['difference']:+.2f} against "
                           f"the rest (95% CI {low:+.2f} to {high:+.2f}, {g['patients']} "
                           "patients)")
    return out
