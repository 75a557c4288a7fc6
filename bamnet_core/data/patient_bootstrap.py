"""Confidence intervals that resample patients, not images.

Images of one patient are alike, so resampling images treats them as
independent evidence and gives intervals that are too narrow. Every interval
in the audit and the subgroup metrics resamples whole patients.

:func:`weighted_bootstrap` computes a metric for every resample at once, from
the ``(resamples, rows)`` weight matrix of
:mod:`bamnet_core.contract.resampling` (how many times each row is drawn);
:func:`weighted_auc` and :func:`weighted_mean` are metrics in that form. The
audit and the subgroup metrics use it. :func:`patient_bootstrap`, one metric
call per resample, serves metrics that have no weighted form (the ablation's
paired differences) and is the reference the weighted form is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import rankdata

from ..contract.resampling import weight_blocks

DEFAULT_REPLICATES = 1000


def binary_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """ROC-AUC of ``score`` for ``y`` (0/1) by the rank-sum formula; None if one class is absent."""
    y = np.asarray(y).astype(bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def patient_bootstrap(
    metric: Callable[[np.ndarray], float | None],
    patients: Sequence[str],
    *,
    replicates: int = DEFAULT_REPLICATES,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """A percentile interval of ``metric`` over patient-level bootstrap resamples.

    :param metric: takes an index array (rows of the data, with repeats) and
        returns the metric, or None where it is undefined on that resample.
    :param patients: the patient of each row.
    :returns: (low, high), or None when fewer than half the resamples give a value.
    """
    by_patient: dict[str, list[int]] = {}
    for i, p in enumerate(patients):
        by_patient.setdefault(p, []).append(i)
    groups = [np.asarray(v, dtype=np.int64) for v in by_patient.values()]
    if not groups:
        return None
    rng = np.random.default_rng(seed)
    values: list[float] = []
    for _ in range(replicates):
        picked = rng.integers(0, len(groups), len(groups))
        value = metric(np.concatenate([groups[i] for i in picked]))
        if value is not None and np.isfinite(value):
            values.append(float(value))
    if len(values) < replicates / 2:
        return None
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(values, (tail, 100 - tail))
    return round(float(low), 4), round(float(high), 4)


def _interval(values: np.ndarray, replicates: int, level: float) -> tuple[float, float] | None:
    """The rounded percentile interval of the finite ``values``, as :func:`patient_bootstrap`."""
    values = values[np.isfinite(values)]
    if len(values) < replicates / 2 or not len(values):
        return None
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(values, (tail, 100 - tail))
    return round(float(low), 4), round(float(high), 4)


def weighted_bootstrap(
    metric: Callable[[np.ndarray], np.ndarray],
    patients: Sequence[str],
    *,
    replicates: int = DEFAULT_REPLICATES,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """:func:`patient_bootstrap` with every resample at once.

    :param metric: a ``(resamples, rows)`` weight block (how many times each row is
        drawn) -> ``(resamples,)`` values, NaN where the metric is undefined.
    :returns: (low, high), or None when fewer than half the resamples give a value.
    """
    parts = [np.asarray(metric(w), dtype=float).reshape(-1)
             for w in weight_blocks(patients, replicates, seed)] if len(patients) else []
    return _interval(np.concatenate(parts) if parts else np.zeros(0), replicates, level)


def weighted_mean(w: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The mean of ``values`` on each resample; NaN where a resample has no row."""
    total = w.sum(axis=1).astype(float)
    sums = w @ np.asarray(values, dtype=float)
    return np.divide(sums, total, out=np.full(len(w), np.nan), where=total > 0)


def weighted_auc(w: np.ndarray, y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """:func:`binary_auc` on each resample (ties count half); NaN where a class is absent."""
    y = np.asarray(y).astype(bool)
    order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
    ranked = np.asarray(score, dtype=float)[order]
    w, y = w[:, order].astype(np.int64), y[order]
    ends = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]  # last row of each tie
    pos = np.diff(np.cumsum(w * y, axis=1)[:, ends], axis=1, prepend=0)
    neg = np.diff(np.cumsum(w * ~y, axis=1)[:, ends], axis=1, prepend=0)
    above = np.cumsum(pos, axis=1) - pos  # positives scored higher than each tie group
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    won = (neg * (above + pos / 2)).sum(axis=1)
    return np.divide(won, pairs, out=np.full(len(w), np.nan), where=pairs > 0)


def weighted_auc_score(w: np.ndarray, y: np.ndarray, probs: np.ndarray,
                       n_classes: int) -> np.ndarray:
    """``shortcut_baseline.auc_score`` on each resample: binary on the second class's
    probability, else the one-vs-rest macro average (NaN unless every class is defined)."""
    y = np.asarray(y)
    if n_classes == 2:
        return weighted_auc(w, y == 1, probs[:, 1])
    return np.mean([weighted_auc(w, y == c, probs[:, c]) for c in range(n_classes)], axis=0)
