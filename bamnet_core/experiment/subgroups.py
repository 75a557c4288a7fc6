"""Does the model work for everyone? Sensitivity, specificity and AUC by source, view, sex, age.

For each attribute the data knows (at least two groups with a value), every
group with enough images gets its accuracy (with a patient-bootstrap interval),
sensitivity, specificity and ROC-AUC. A group is ``worse`` only when one of its
**sensitivity, specificity or ROC-AUC** is lower than that of all other images
of the split, by a test that survives correction for the number of tests made.
Accuracy is shown but never tested: it follows a group's class mix, so a group
holding more of the class the model finds easier would look better (and the
rest worse) with nothing wrong. Sensitivity is measured on positives only and
specificity on negatives only, so the class mix cannot raise a flag.

The test (:data:`TEST`): for each group and rate, the difference group - rest;
its standard error from the same patient-bootstrap resamples (a patient's
images are drawn together); a one-sided z-test of "the group does worse"; and
Holm's step-down correction over every test of the split (family-wise error
5%). A rate is tested only where the group and the rest each hold at least
``min_class`` images of the class it is measured on (both classes for AUC).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.stats import norm

from ..contract.decision import decide_indices
from ..contract.resampling import weight_blocks
from ..contract.sample import Sample
from ..data.patient_bootstrap import binary_auc, weighted_auc, weighted_bootstrap, weighted_mean
from ..runs.metrics_file import SubgroupComparison

MIN_IMAGES = 5
MIN_CLASS = 5
REPLICATES = 500
ALPHA = 0.05
TEST = ("one-sided z-test of each group's sensitivity, specificity and ROC AUC against the "
        "rest of the split (standard error from a patient bootstrap), Holm-corrected over "
        "every test at a family-wise error of 5%")
TESTED = ("sensitivity", "specificity", "auc")
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


def _share(hit: np.ndarray, of: np.ndarray) -> float | None:
    return round(float(hit[of].mean()), 4) if of.any() else None


class _Split:
    """One split's rows: truth, decisions, scores and patients, and the rates on any rows."""

    def __init__(self, y: np.ndarray, pred: np.ndarray, score: np.ndarray, pos: int,
                 patients: list[str], seed: int) -> None:
        self.positive, self.called, self.score = y == pos, pred == pos, score
        self.correct = (pred == y).astype(np.float64)
        self.patients, self.seed = patients, seed

    def rates(self, rows: np.ndarray) -> dict[str, float | None]:
        """Accuracy, sensitivity, specificity and ROC AUC on the boolean mask ``rows``."""
        p, n = self.positive & rows, ~self.positive & rows
        auc = binary_auc(self.positive[rows], self.score[rows])
        return {"accuracy": _share(self.correct.astype(bool), rows),
                "sensitivity": _share(self.called, p), "specificity": _share(~self.called, n),
                "auc": None if auc is None else round(auc, 4)}

    def metric(self, name: str, rows: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """``name`` on ``rows`` for every resample of a ``(resamples, all rows)`` weight block."""
        if name == "auc":
            return lambda w: weighted_auc(w[:, rows], self.positive[rows], self.score[rows])
        of = self.positive if name == "sensitivity" else ~self.positive
        hit = self.called if name == "sensitivity" else ~self.called
        mask = of & rows
        return lambda w: weighted_mean(w[:, mask], hit[mask].astype(np.float64))

    def supported(self, name: str, rows: np.ndarray, least: int) -> bool:
        """Whether ``rows`` hold ``least`` images of each class ``name`` is measured on."""
        pos, neg = int((self.positive & rows).sum()), int((~self.positive & rows).sum())
        return {"sensitivity": pos, "specificity": neg, "auc": min(pos, neg)}[name] >= least

    def gap(self, name: str, inside: np.ndarray) -> dict[str, Any]:
        """Group minus rest for ``name``: the difference, its interval, and the one-sided
        p-value that the group does worse (before correction)."""
        mine, rest = self.metric(name, inside), self.metric(name, ~inside)
        everyone = np.ones((1, len(self.correct)), dtype=np.int64)
        here, there = float(mine(everyone)[0]), float(rest(everyone)[0])
        diff = here - there
        draws = np.concatenate([mine(w) - rest(w) for w in
                                weight_blocks(self.patients, REPLICATES, self.seed)])
        draws = draws[np.isfinite(draws)]
        se = float(draws.std(ddof=1)) if len(draws) > 1 else 0.0
        if se > 0:
            p = float(norm.cdf(diff / se))
        else:  # every resample agrees: worse for certain, or not at all
            p = 0.0 if diff < 0 else 1.0
        interval = (tuple(round(float(v), 4) for v in np.percentile(draws, [2.5, 97.5]))
                    if len(draws) >= REPLICATES / 2 else None)
        return {"metric": name, "group": round(here, 4), "rest": round(there, 4),
                "difference": round(diff, 4),
                "interval": interval, "p": round(p, 6)}


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> tuple[list[float], list[bool]]:
    """Holm's step-down adjusted p-values and which tests they reject at ``alpha``."""
    order = np.argsort(p_values, kind="mergesort")
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        adjusted[i] = running
    return adjusted, [a <= alpha for a in adjusted]


def subgroup_metrics(samples: Sequence[Sample], y_true: np.ndarray, probs: np.ndarray, *,
                     classes: Sequence[str], positive: str, threshold: float, split: str,
                     seed: int = 0, min_images: int = MIN_IMAGES,
                     min_class: int = MIN_CLASS) -> dict[str, Any]:
    """Per-group metrics on one split's predictions, and which groups do worse.

    :param samples: the split's samples, in the order of ``y_true`` and ``probs``.
    :param min_images: the fewest images a group needs to be shown.
    :param min_class: the fewest images of a class a group and the rest need for a rate
        measured on that class to be tested.
    :returns: ``{"split", "min_images", "test", "tests", "by": {attribute: [group, ...]},
        "worse": [...]}``; each group has ``group``, ``images``, ``patients``,
        ``positives``, ``accuracy`` with ``accuracy_interval``, ``sensitivity``,
        ``specificity``, ``auc``, ``comparisons`` (one per rate tested: ``metric``,
        ``group``, ``rest``, ``difference``, ``interval``, ``p``, ``p_holm``, ``worse``) and
        ``worse``. ``worse`` lists ``attribute=group`` of each group with a rejected test.
    """
    pos = list(classes).index(positive)
    y = np.asarray(y_true)
    rows = _Split(y, decide_indices(probs, pos, threshold), probs[:, pos], pos,
                  [s.patient_id for s in samples], seed)
    result: dict[str, Any] = {"split": split, "min_images": min_images, "test": TEST,
                              "tests": 0, "by": {}, "worse": []}
    for attribute, value_of in ATTRIBUTES.items():
        values = np.array([value_of(s) or "unknown" for s in samples], dtype=object)
        known = sorted({v for v in values if v != "unknown"})
        if len(known) < 2:
            continue
        groups = [_group(group, values == group, rows, min_class)
                  for group in [*known, "unknown"] if (values == group).sum() >= min_images]
        if groups:
            result["by"][attribute] = groups
    _correct(result)
    return result


def _group(name: str, inside: np.ndarray, rows: _Split, min_class: int) -> dict[str, Any]:
    idx = np.flatnonzero(inside)
    mine = [rows.patients[i] for i in idx]
    interval = weighted_bootstrap(lambda w: weighted_mean(w, rows.correct[idx]), mine,
                                  replicates=REPLICATES, seed=rows.seed)
    comparisons = [rows.gap(metric, inside) for metric in TESTED
                   if (~inside).any() and rows.supported(metric, inside, min_class)
                   and rows.supported(metric, ~inside, min_class)]
    return {"group": name, "images": int(len(idx)), "patients": len(set(mine)),
            "positives": int(rows.positive[idx].sum()), **rows.rates(inside),
            "accuracy_interval": interval, "comparisons": comparisons, "worse": False}


def _correct(result: dict[str, Any]) -> None:
    """Holm over every comparison of the split; mark the groups with a rejected one."""
    tests = [(attribute, g, c) for attribute, groups in result["by"].items() for g in groups
             for c in g["comparisons"]]
    adjusted, rejected = holm([c["p"] for _, _, c in tests])
    for (attribute, g, c), p_holm, worse in zip(tests, adjusted, rejected, strict=True):
        c["p_holm"], c["worse"] = round(p_holm, 6), bool(worse and c["difference"] < 0)
        if c["worse"] and not g["worse"]:
            g["worse"] = True
            result["worse"].append(f"{attribute}={g['group']}")
    result["tests"] = len(tests)


def worse_comparisons(group: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons of one group that its test flagged."""
    return [c for c in group.get("comparisons") or () if c.get("worse")]


def subgroup_warnings(result: dict[str, Any]) -> list[str]:
    """One sentence per group that does significantly worse than the rest, naming the rate
    and the test."""
    out = []
    for attribute, groups in result.get("by", {}).items():
        for g in groups:
            for c in worse_comparisons(g):
                out.append(f"{attribute} = {g['group']!r} does worse on the {result['split']} "
                           f"split: {_name(c['metric'])} {c['group']:.2f} against "
                           f"{c['rest']:.2f} for the rest ({g['patients']} patients; "
                           f"{SubgroupComparison.model_validate(c).p_shown} after Holm's "
                           f"correction over {result['tests']} tests)")
    return out


def _name(metric: str) -> str:
    return "ROC AUC" if metric == "auc" else metric
