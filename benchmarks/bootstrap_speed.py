"""Seconds for 1,000 patient-bootstrap resamples of the built-in evaluators' metrics:
the per-resample loop (``bootstrap_metrics``) against the one-matrix form
(``bootstrap_weighted``), on a split shaped like the real data's test split.

    PYTHONPATH=.:plugins python benchmarks/bootstrap_speed.py [--rows 220] [--patients 190]

Synthetic scores (no data folder needed); prints median seconds of 5 repeats of each.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bamnet_core.contract import (
    bootstrap_metrics,
    bootstrap_weighted,
    patient_resamples,
    patient_weights,
)
from bamnet_paper.evaluators import fast_metrics
from bamnet_paper.evaluators.calibration import ece_brier, weighted_ece_brier
from bamnet_paper.evaluators.classification import rates
from bamnet_paper.evaluators.roc import bootstrap_curves, fast_curves


def main() -> None:
    """Time both forms and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=220)
    parser.add_argument("--patients", type=int, default=190)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    who = rng.integers(0, args.patients, args.rows).astype(str)
    t = rng.random(args.rows) < 0.45
    p = np.clip(t * 0.3 + rng.random(args.rows) * 0.7, 0, 1)
    called, correct, tf = p >= 0.5, (p >= 0.5) == t, t.astype(float)
    n = args.resamples

    def loop() -> None:
        def on(rows):
            tr = t[rows]
            auc = fast_metrics.roc_auc(tr, p[rows]) if 0 < tr.sum() < len(tr) else None
            return {"accuracy": float(correct[rows].mean()),
                    **rates(fast_metrics.counts(tr, called[rows])), "roc_auc": auc}
        bootstrap_metrics(on, who, n, 0)
        bootstrap_metrics(lambda rows: ece_brier(tf[rows], p[rows]), who, n, 0)
        [fast_curves(t[r], p[r]) for r in patient_resamples(who, n, 0)]

    def matrix() -> None:
        def on(w):
            auc, _, _ = fast_metrics.weighted_auc_ap(w, t, p)
            return {"accuracy": fast_metrics.ratio(w @ correct, w.sum(axis=1)),
                    **fast_metrics.weighted_rates(fast_metrics.weighted_counts(w, t, called)),
                    "roc_auc": auc}
        bootstrap_weighted(on, who, n, 0)
        bootstrap_weighted(lambda w: weighted_ece_brier(w, tf, p), who, n, 0)
        bootstrap_curves(patient_weights(who, n, 0), t, p)

    for name, fn in (("per-resample loop", loop), ("one matrix", matrix)):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"{name:<18} classification + calibration + roc, {n} resamples, "
              f"{args.rows} rows: median {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
