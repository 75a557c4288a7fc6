"""Confidence intervals that resample patients, not images.

Images of one patient are alike, so resampling images treats them as
independent evidence and gives intervals that are too narrow. Every interval
in the audit and the subgroup metrics resamples whole patients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import rankdata

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
