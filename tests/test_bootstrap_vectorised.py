"""The one-matrix patient bootstrap gives the intervals the per-resample loop gave.

The reference here is the loop itself (``patient_resamples`` and the NumPy metrics on
each resample's rows), so the two are compared draw for draw: same seed, same
resamples, so the intervals agree to rounding, far inside Monte-Carlo noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from bamnet_core.contract import (
    bootstrap_metrics,
    bootstrap_weighted,
    patient_resamples,
    patient_weights,
    percentile_interval,
)
from bamnet_core.contract.resampling import weight_blocks
from bamnet_paper.evaluators import fast_metrics
from bamnet_paper.evaluators.calibration import ece_brier, weighted_ece_brier
from bamnet_paper.evaluators.classification import rates
from bamnet_paper.evaluators.roc import GRID, bootstrap_curves, fast_curves


def _split(seed: int, rows: int = 120, patients: int = 45, ties: bool = True):
    rng = np.random.default_rng(seed)
    who = rng.integers(0, patients, rows).astype(str)
    t = rng.random(rows) < 0.4
    p = np.clip(t * 0.25 + rng.random(rows) * 0.75, 0, 1)
    if ties:
        p = np.round(p, 1)  # many tied scores
    return who, t, p


def _close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key]["resamples"] == b[key]["resamples"], key
        assert a[key]["low"] == pytest.approx(b[key]["low"], abs=1e-12), key
        assert a[key]["high"] == pytest.approx(b[key]["high"], abs=1e-12), key


@pytest.mark.parametrize("rows,patients", [(50, 50), (120, 30), (7, 2), (0, 0)])
def test_weights_repeat_the_rows_each_resample_draws(rows, patients):
    who = np.random.default_rng(1).integers(0, max(patients, 1), rows).astype(str)
    weights = patient_weights(who, 40, seed=5)
    assert weights.shape == (40, rows)
    for b, drawn in enumerate(patient_resamples(who, 40, seed=5)):
        assert np.array_equal(weights[b], np.bincount(drawn, minlength=rows))


def test_blocks_do_not_change_the_draws():
    who, _, _ = _split(2)
    whole = patient_weights(who, 100, seed=3)
    blocked = np.concatenate(list(weight_blocks(who, 100, seed=3, block_cells=7 * len(who))))
    assert np.array_equal(whole, blocked)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_intervals_match_the_loop(seed):
    who, t, p = _split(seed)
    called = p >= 0.5
    correct = called == t

    def loop(rows):
        tr = t[rows]
        auc = fast_metrics.roc_auc(tr, p[rows]) if 0 < tr.sum() < len(tr) else None
        return {"accuracy": float(correct[rows].mean()),
                **rates(fast_metrics.counts(tr, called[rows])), "roc_auc": auc}

    def matrix(w):
        auc, _, _ = fast_metrics.weighted_auc_ap(w, t, p)
        return {"accuracy": fast_metrics.ratio(w @ correct, w.sum(axis=1)),
                **fast_metrics.weighted_rates(fast_metrics.weighted_counts(w, t, called)),
                "roc_auc": auc}

    _close(bootstrap_metrics(loop, who, 300, seed), bootstrap_weighted(matrix, who, 300, seed))


def test_undefined_rates_are_left_out_as_the_loop_leaves_them():
    who = np.array(["a", "a", "b", "c"])
    t = np.array([True, True, False, False])  # patient a holds every positive
    p = np.array([0.9, 0.2, 0.4, 0.6])
    called = p >= 0.5

    def loop(rows):
        return rates(fast_metrics.counts(t[rows], called[rows]))

    def matrix(w):
        return fast_metrics.weighted_rates(fast_metrics.weighted_counts(w, t, called))

    got = bootstrap_weighted(matrix, who, 200, 4)
    _close(bootstrap_metrics(loop, who, 200, 4), got)
    assert got["sensitivity"]["resamples"] < 200  # resamples without patient a: no value


@pytest.mark.parametrize("seed", [0, 3])
def test_calibration_intervals_match_the_loop(seed):
    who, t, p = _split(seed, ties=False)
    tf = t.astype(float)
    _close(bootstrap_metrics(lambda rows: ece_brier(tf[rows], p[rows]), who, 300, seed),
           bootstrap_weighted(lambda w: weighted_ece_brier(w, tf, p), who, 300, seed))


@pytest.mark.parametrize("ties", [True, False])
def test_roc_curves_and_bands_match_the_loop(ties):
    who, t, p = _split(7, ties=ties)
    loop = [fast_curves(t[rows], p[rows]) for rows in patient_resamples(who, 200, 7)
            if 0 < t[rows].sum() < len(rows)]
    got = bootstrap_curves(patient_weights(who, 200, 7), t, p)
    assert len(got["roc_auc"]) == len(loop)
    for key in ("roc_auc", "pr_auc"):
        assert got[key] == pytest.approx([d[key] for d in loop], abs=1e-12)
        assert percentile_interval(got[key].tolist()) == pytest.approx(
            percentile_interval([d[key] for d in loop]))
    for key in ("tpr_at", "precision_at"):
        assert got[key].shape == (len(loop), len(GRID))
        assert np.allclose(got[key], np.stack([d[key] for d in loop]), atol=1e-12)


def test_auc_agrees_with_scikit_learn_on_the_full_sample():
    from sklearn.metrics import average_precision_score, roc_auc_score

    who, t, p = _split(9)
    auc, ap, _ = fast_metrics.weighted_auc_ap(np.ones((1, len(t)), np.int32), t, p)
    assert auc[0] == pytest.approx(roc_auc_score(t, p))
    assert ap[0] == pytest.approx(average_precision_score(t, p))
