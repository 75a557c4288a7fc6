"""The audit's and the subgroups' patient bootstrap, one matrix for every resample, gives
the intervals of one metric call per resample.

Draw for draw (the same resamples, from ``patient_resamples``) the values are equal;
against the per-resample loop with its own draws the intervals differ by Monte-Carlo
noise only, measured here as the loop's own spread over seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from bamnet_core.contract import patient_resamples
from bamnet_core.contract.resampling import weight_blocks
from bamnet_core.data.patient_bootstrap import (
    binary_auc,
    patient_bootstrap,
    weighted_auc,
    weighted_auc_score,
    weighted_bootstrap,
    weighted_mean,
)
from bamnet_core.data.shortcut_baseline import auc_score


def _data(seed: int, rows: int = 150, patients: int = 60, classes: int = 2):
    rng = np.random.default_rng(seed)
    who = rng.integers(0, patients, rows).astype(str)
    y = rng.integers(0, classes, rows)
    probs = rng.dirichlet(np.ones(classes), rows)
    probs[:, 1] = np.round(np.clip(probs[:, 1] + 0.2 * (y == 1), 0, 1), 1)  # ties
    return who, y, probs


@pytest.mark.parametrize("classes", [2, 3])
def test_weighted_metrics_equal_the_metric_on_each_resamples_rows(classes):
    who, y, probs = _data(1, classes=classes)
    (w,) = list(weight_blocks(who, 200, seed=5))
    correct = (probs.argmax(axis=1) == y).astype(float)
    inside = who.astype(int) % 3 == 0
    aucs = weighted_auc_score(w, y, probs, classes)
    means = weighted_mean(w, correct)
    gaps = weighted_mean(w[:, inside], correct[inside]) - weighted_mean(w[:, ~inside],
                                                                       correct[~inside])
    for b, rows in enumerate(patient_resamples(who, 200, seed=5)):
        expected = auc_score(y[rows], probs[rows], classes)
        assert (aucs[b] if np.isfinite(aucs[b]) else None) == pytest.approx(expected, abs=1e-12)
        assert means[b] == pytest.approx(correct[rows].mean(), abs=1e-12)
        a, o = inside[rows], ~inside[rows]
        assert gaps[b] == pytest.approx(correct[rows][a].mean() - correct[rows][o].mean(),
                                        abs=1e-12)


def test_an_auc_undefined_on_a_resample_is_nan():
    w = np.array([[1, 1, 0, 0], [0, 1, 1, 1]])
    out = weighted_auc(w, np.array([True, True, False, False]), np.array([0.9, 0.8, 0.1, 0.2]))
    assert np.isnan(out[0]) and out[1] == binary_auc(np.array([True, False, False]),
                                                     np.array([0.8, 0.1, 0.2]))


def test_intervals_match_the_per_resample_loop_within_monte_carlo_noise():
    who, y, probs = _data(2)
    loop = [patient_bootstrap(lambda i: binary_auc(y[i] == 1, probs[i, 1]), list(who),
                              replicates=1000, seed=s) for s in range(6)]
    fast = weighted_bootstrap(lambda w: weighted_auc(w, y == 1, probs[:, 1]), list(who),
                              replicates=1000, seed=0)
    for end in (0, 1):
        ends = [iv[end] for iv in loop]
        noise = max(ends) - min(ends)  # how far the loop moves with its seed alone
        assert noise > 0
        assert min(ends) - noise <= fast[end] <= max(ends) + noise


def test_too_few_defined_resamples_give_no_interval():
    who = np.array(["a", "b", "c"])
    assert weighted_bootstrap(lambda w: np.full(len(w), np.nan), who, replicates=50) is None
    assert weighted_bootstrap(lambda w: np.ones(len(w)), [], replicates=50) is None
