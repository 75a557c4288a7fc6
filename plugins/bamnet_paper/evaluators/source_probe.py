"""``source-probe``: can a linear model tell the image's source from the classifier's features?

A logistic regression on the penultimate features, cross-validated with folds
grouped by patient, predicts each image's source. Accuracy far above chance
(always guessing the largest source) means the features encode the hospital.
Within one class (where the label cannot explain it) this is the sharper test.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bamnet_core.contract import (
    EvaluationContext,
    EvidenceLine,
    Findings,
    interval_text,
    number_text,
    wilson,
)

MIN_PER_SOURCE = 2
MARGIN = 0.15


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
    """A linear probe for the source on penultimate features, overall and within each class.

    :param margin: within-class probe accuracy this far above chance (low end of its
        Wilson interval): some shortcut evidence.
    """

    def __init__(self, *, margin: float = MARGIN) -> None:
        if not 0.0 <= margin <= 1.0:
            raise ValueError(f"margin must be 0 to 1, not {margin}")
        self.margin = margin

    def evaluate_context(self, context: EvaluationContext) -> Findings:
        """The probes, and the verdict line of the sharpest one within a class."""
        results = self.measure(context)
        return Findings(results=results, evidence=(self.line(results),))

    def line(self, probe: dict[str, Any]) -> EvidenceLine:
        """The verdict line of :meth:`measure`'s result: the class whose probe beats chance
        by the widest margin (low end of its interval)."""
        if not probe.get("within_class"):
            return EvidenceLine(key="source-probe", label="source probe", level="info",
                                finding="not measured",
                                meaning=probe.get("note") or "no class holds two sources "
                                f"of at least {MIN_PER_SOURCE} images each over at least two "
                                "patients: nothing to probe within a class")
        best = None
        for cls, entry in probe["within_class"].items():
            n, acc, chance = int(entry["images"]), float(entry["accuracy"]), float(entry["chance"])
            low, high = wilson(round(acc * n), n) or (acc, acc)
            if best is None or low - chance > best[0]:
                best = (low - chance, cls, acc, chance, (low, high), n)
        margin, cls, acc, chance, interval, n = best  # type: ignore[misc]
        rule = f"some: within-class accuracy above chance by >= {self.margin:g} (low end)"
        finding = (f"{cls} images: accuracy {number_text(acc)}{interval_text(interval)} "
                   f"(Wilson, n = {n}) against chance {number_text(chance)}")
        if margin >= self.margin:
            return EvidenceLine(key="source-probe", label="source probe", level="some",
                                finding=finding, meaning="the model's features tell the "
                                "hospitals apart within one class", rule=rule, value=acc,
                                interval=interval)
        return EvidenceLine(key="source-probe", label="source probe", level="none",
                            finding=finding, meaning="the features do not tell the sources "
                            "apart beyond chance", rule=rule, value=acc, interval=interval)

    def measure(self, context: EvaluationContext) -> dict[str, Any]:
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
