"""An honest ablation: every difference between two runs with a paired patient-bootstrap interval.

Both runs scored the same validation and test images (the ablation checks
that); each resample draws patients once and computes the metric of both runs
on the same rows, so the interval is of the difference itself. A run that
calls every image of a split one class is *degenerate* there: its rates are
those of a constant, and a difference against it means nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..contract.decision import decide_indices
from ..data.patient_bootstrap import binary_auc, patient_bootstrap
from ..runs import layout

REPLICATES = 500


def _read(run_dir: Path, classes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """split -> rows of ``predictions.csv`` keyed by path (label, patient, probabilities)."""
    out: dict[str, dict[str, Any]] = {}
    with open(run_dir / layout.PREDICTIONS, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["split"], {})[row["path"]] = (
                classes.index(row["label"]), row["patient_id"],
                [float(row[f"p_{c}"]) for c in classes])
    return out


def _metrics(y: np.ndarray, pred: np.ndarray, score: np.ndarray, pos: int
             ) -> dict[str, float | None]:
    t, called = y == pos, pred == pos
    tp, fn = int((t & called).sum()), int((t & ~called).sum())
    tn, fp = int((~t & ~called).sum()), int((~t & called).sum())
    sens = tp / (tp + fn) if tp + fn else None
    spec = tn / (tn + fp) if tn + fp else None
    return {"accuracy": float((pred == y).mean()) if len(y) else None,
            "sensitivity": sens, "specificity": spec,
            "balanced_accuracy": (sens + spec) / 2 if sens is not None and spec is not None
            else None,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
            "roc_auc": binary_auc(t, score)}


def paired_differences(with_dir: Path, without_dir: Path, *, classes: Sequence[str],
                       positive: str, threshold: float, seed: int = 0,
                       replicates: int = REPLICATES) -> dict[str, dict[str, Any]]:
    """Per split: each metric's difference (with - without) and its paired 95% interval.

    :returns: ``{split: {"metrics": {name: {"difference", "interval"}}, "degenerate":
        {"with": bool, "without": bool}}}``; only images both runs scored count.
    """
    classes = list(classes)
    pos = classes.index(positive)
    a, b = _read(with_dir, classes), _read(without_dir, classes)
    result: dict[str, dict[str, Any]] = {}
    for split in ("val", "test"):
        shared = sorted(set(a.get(split, {})) & set(b.get(split, {})))
        if not shared:
            continue
        y = np.array([a[split][p][0] for p in shared])
        patients = [a[split][p][1] for p in shared]
        probs = {k: np.array([run[split][p][2] for p in shared]) for k, run in
                 (("with", a), ("without", b))}
        preds = {k: decide_indices(v, pos, threshold) for k, v in probs.items()}
        result[split] = {"images": len(shared),
                         "metrics": _differences(y, patients, probs, preds, pos, seed,
                                                 replicates),
                         "degenerate": {k: len(set(p.tolist())) < 2 for k, p in preds.items()}}
    return result


def _differences(y: np.ndarray, patients: list[str], probs: dict[str, np.ndarray],
                 preds: dict[str, np.ndarray], pos: int, seed: int, replicates: int
                 ) -> dict[str, dict[str, Any]]:
    def diff(rows: np.ndarray, name: str) -> float | None:
        one = _metrics(y[rows], preds["with"][rows], probs["with"][rows, pos], pos)[name]
        two = _metrics(y[rows], preds["without"][rows], probs["without"][rows, pos], pos)[name]
        return None if one is None or two is None else one - two

    every = np.arange(len(y))
    metrics = {}
    for name in ("accuracy", "balanced_accuracy", "sensitivity", "specificity", "roc_auc", "f1"):
        value = diff(every, name)
        interval = patient_bootstrap(lambda rows, n=name: diff(rows, n), patients,
                                     replicates=replicates, seed=seed) \
            if value is not None else None
        metrics[name] = {"difference": None if value is None else round(value, 4),
                         "interval": interval}
    return metrics


def excludes_zero(interval: Sequence[float] | None) -> bool:
    """Whether a difference's interval lies wholly on one side of zero."""
    return interval is not None and (interval[0] > 0 or interval[1] < 0)
