"""Images unlike the rest of their class: lateral views, CT slices, figures, non-chest images.

Each image is scored by its mean distance to its ``k`` nearest neighbours of
the same class in frozen-backbone feature space (standardised, principal
components), divided by the median of that score in its class, so classes of
different spread are comparable. A score well above 1 is an image nothing
else in its class looks like. An image is called ``unusual`` when its score
is more than ``cut`` robust standard deviations (median absolute deviation)
above its class's median.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..contract.sample import Sample
from .feature_space import reduce_features

DEFAULT_NEIGHBOURS = 10
DEFAULT_CUT = 4.0
LIST_LIMIT = 100


def knn_scores(x: np.ndarray, k: int) -> np.ndarray:
    """Mean distance of each row to its ``k`` nearest other rows."""
    from sklearn.neighbors import NearestNeighbors

    k = max(1, min(k, len(x) - 1))
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return distances[:, 1:].mean(axis=1)


def find_outliers(samples: Sequence[Sample], features: np.ndarray, *,
                  neighbours: int = DEFAULT_NEIGHBOURS, cut: float = DEFAULT_CUT,
                  seed: int = 0, limit: int = LIST_LIMIT,
                  progress: ProgressCallback = silent) -> dict[str, Any]:
    """Rank the samples by how unlike the rest of their class they are.

    :param features: one row per sample (frozen-backbone features).
    :returns: ``unusual`` (how many pass the cut), ``per_class`` counts and
        ``ranked``: the most unusual images first, each with ``path``,
        ``label``, ``score`` (1 = a typical image of its class) and ``unusual``.
    """
    real = [i for i, s in enumerate(samples) if not s.synthetic]
    chosen = [samples[i] for i in real]
    if len(chosen) < 3:
        return {"status": "skipped", "unusual": 0, "ranked": [],
                "reason": "needs at least three images"}
    x = reduce_features(features[real], seed=seed)
    scores = np.ones(len(chosen))
    flags = np.zeros(len(chosen), dtype=bool)
    per_class: dict[str, int] = {}
    classes = sorted({s.label for s in chosen})
    for n, label in enumerate(classes):
        progress(ProgressEvent("outliers", n, len(classes), f"outliers ({label})"))
        idx = np.array([i for i, s in enumerate(chosen) if s.label == label])
        if len(idx) < 3:
            per_class[label] = 0
            continue
        raw = knn_scores(x[idx], neighbours)
        middle = float(np.median(raw)) or 1.0
        spread = float(np.median(np.abs(raw - np.median(raw)))) * 1.4826 or middle * 0.1
        scores[idx] = raw / middle
        flags[idx] = raw > middle + cut * spread
        per_class[label] = int(flags[idx].sum())
    progress(ProgressEvent("outliers", len(classes), len(classes), "outliers"))
    order = np.argsort(-scores, kind="stable")
    rows = [{"path": chosen[i].path, "label": chosen[i].label,
             "score": round(float(scores[i]), 3), "unusual": bool(flags[i]),
             "patient_id": chosen[i].patient_id, "source": chosen[i].source,
             "view": chosen[i].view} for i in order[:limit]]
    return {"status": "done", "method": f"mean distance to {neighbours} nearest neighbours of "
            "the same class, over the class median", "neighbours": neighbours, "cut": cut,
            "images": len(chosen), "unusual": int(flags.sum()), "per_class": per_class,
            "ranked": rows}
