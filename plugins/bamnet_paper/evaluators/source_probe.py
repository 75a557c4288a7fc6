"""``source-probe``: can a linear model tell the image's source from the classifier's features?

A logistic regression on the penultimate features, cross-validated with folds
grouped by patient, predicts each image's source. Accuracy far above chance
(always guessing the largest source) means the features encode the hospital.
Within one class (where the label cannot explain it) this is the sharper test.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bamnet_core.contract import EvaluationContext

MIN_PER_SOURCE = 2


def probe(features: np.ndarray, sources: np.ndarray, patients: np.ndarray,
          seed: int) -> dict[str, Any] | None:
    """Grouped cross-validated accuracy of predicting ``sources``, or None if undefined."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    names, counts = np.unique(sources.astype(str), return_counts=True)
    keep = np.isin(sources.astype(str), names[counts >= MIN_PER_SOURCE])
    x, y, groups = features[keep], sources[keep].astype(str), patients[keep].astype(str)
    smallest = int(np.unique(y, return_counts=True)[1].min()) if len(y) else 0
    folds = min(5, len(set(groups)), smallest)
    if len(set(y)) < 2 or folds < 2:
        return None
    pred = np.empty(len(y), dtype=object)
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed % 2**31)
    for train, held in cv.split(x, y, groups):
        seen = np.unique(y[train])
        if len(seen) < 2:  # a fold that saw one source can only guess it
            pred[held] = seen[0]
            continue
        model = make_pipeline(StandardScaler(),
                              LogisticRegression(max_iter=2000, random_state=seed))
        pred[held] = model.fit(x[train], y[train]).predict(x[held])
    chance = float(np.max(np.unique(y, return_counts=True)[1]) / len(y))
    accuracy = float((pred == y).mean())
    return {"images": int(len(y)), "sources": int(len(set(y))), "accuracy": accuracy,
            "chance": chance, "above_chance": accuracy - chance}


class SourceProbeEvaluator:
    """A linear probe for the source on penultimate features, overall and within each class."""

    def evaluate_context(self, context: EvaluationContext) -> dict[str, Any]:
        """Probe accuracy against chance; ``within_class`` holds the per-class probes."""
        split = context.split
        if context.features is None or split.images is None:
            return {"note": "the model exposes no penultimate features; probe skipped"}
        if len(set(split.sources)) < 2:
            return {"note": f"the {split.name} split has a single source; nothing to probe"}
        features = np.asarray(context.features(split.images), dtype=float)
        features = features.reshape(len(features), -1)
        overall = probe(features, split.sources, split.patients, context.seed)
        within = {}
        for index, name in enumerate(context.class_names):
            rows = split.y_true == index
            result = probe(features[rows], split.sources[rows], split.patients[rows],
                           context.seed)
            if result is not None:
                within[name] = result
        return {"overall": overall, "within_class": within,
                "feature_size": int(features.shape[1])}
