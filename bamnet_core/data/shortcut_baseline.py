"""The outside-the-lungs baseline: could a model score this well without the lungs?

A gradient-boosted classifier sees only each image's cheap properties: how it
was made (size, aspect, bit depth, colour, format, file size, allowlisted DICOM
tags) and pixel statistics taken outside its lung fields, dilated (intensity,
borders, corners, frame; :mod:`bamnet_core.imaging.properties`), and predicts
its class. Classes that differ only inside the lungs give it nothing to read. It is
cross-validated with patients as groups, so no patient is in the fold it is
scored on. A high ROC-AUC means the classes differ in how their images were
made, and a CNN can learn that instead of the disease.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, ProgressEvent, silent
from .._util.threads import native_threads
from ..contract.sample import Sample
from ..imaging.properties import CATEGORICAL, NUMERIC
from .patient_bootstrap import binary_auc, weighted_auc_score, weighted_bootstrap

READS = ("how each image was made (size, bit depth, colour, format, file size, DICOM tags) "
         "and pixel statistics outside its dilated lung fields")
DEFAULT_THRESHOLD = 0.75
DEFAULT_FOLDS = 5
TOP_PROPERTIES = 8


def property_matrix(props: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, list[str]]:
    """Numeric properties as columns, categorical ones one-hot (values seen in 2+ images).

    Categorical columns that hold one value everywhere are left out: they
    carry nothing. Unknown numbers are NaN, which gradient boosting handles.
    """
    columns: list[np.ndarray] = []
    names: list[str] = []
    for key in NUMERIC:
        values = np.array([_number(p.get(key)) for p in props], dtype=np.float64)
        columns.append(values)
        names.append(key)
    for key in CATEGORICAL:
        values = [str(p.get(key) or "") for p in props]
        kinds = sorted(set(values))
        if len(kinds) < 2:
            continue
        for kind in kinds:
            hot = np.array([v == kind for v in values], dtype=np.float64)
            if 2 <= hot.sum():
                columns.append(hot)
                names.append(f"{key}={kind or 'unknown'}")
    return np.column_stack(columns) if columns else np.zeros((len(props), 0)), names


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _model(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, max_leaf_nodes=15,
                                          min_samples_leaf=10, l2_regularization=1.0,
                                          random_state=seed)


def auc_score(y: np.ndarray, probs: np.ndarray, n_classes: int) -> float | None:
    """ROC-AUC: binary on the second class's probability, else one-vs-rest macro average."""
    if n_classes == 2:
        return binary_auc(y == 1, probs[:, 1])
    per_class = [binary_auc(y == c, probs[:, c]) for c in range(n_classes)]
    known = [a for a in per_class if a is not None]
    return float(np.mean(known)) if len(known) == n_classes else None


def univariate_strength(x: np.ndarray, y: np.ndarray, names: Sequence[str],
                        classes: Sequence[str]) -> list[dict[str, Any]]:
    """Each property's own ROC-AUC for the class it separates best, strongest first.

    ``auc`` is at least 0.5: the property is higher (``direction`` "higher")
    or lower in ``class`` than in the others.
    """
    rows: list[dict[str, Any]] = []
    for j, name in enumerate(names):
        known = ~np.isnan(x[:, j])
        best: dict[str, Any] | None = None
        targets = [1] if len(classes) == 2 else range(len(classes))
        for c in targets:
            auc = binary_auc(y[known] == c, x[known, j]) if known.sum() > 1 else None
            if auc is None:
                continue
            strength = max(auc, 1.0 - auc)
            if best is None or strength > best["auc"]:
                best = {"property": name, "auc": round(strength, 4), "class": classes[c],
                        "direction": "higher" if auc >= 0.5 else "lower"}
        if best is not None:
            rows.append(best)
    return sorted(rows, key=lambda r: -r["auc"])


def shortcut_baseline(
    samples: Sequence[Sample],
    properties: Mapping[str, Mapping[str, Any]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Cross-validate the outside-the-lungs classifier, grouped by patient.

    :param properties: path -> properties, for the images that decoded.
    :param threshold: flag the dataset when the ROC-AUC is at least this.
    :returns: ``auc`` with its patient-bootstrap ``interval``, ``top_properties``
        (univariate AUCs), ``flagged``, and a ``finding`` sentence (or
        ``status = "skipped"`` with a ``reason``).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    real = [s for s in samples if not s.synthetic and s.path in properties]
    classes = sorted({s.label for s in real})
    base = {"threshold": threshold, "images": len(real), "classes": classes, "reads": READS}
    per_class = {c: len({s.patient_id for s in real if s.label == c}) for c in classes}
    n_splits = min([folds, *per_class.values()]) if per_class else 0
    if len(classes) < 2 or n_splits < 2:
        return {**base, "status": "skipped", "flagged": False,
                "reason": "needs two classes with at least two patients each"}
    x, names = property_matrix([properties[s.path] for s in real])
    y = np.array([classes.index(s.label) for s in real])
    patients = [s.patient_id for s in real]
    probs = np.zeros((len(real), len(classes)))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    progress(ProgressEvent("shortcut baseline", 0, n_splits, "shortcut baseline"))
    for k, (train, test) in enumerate(splitter.split(x, y, groups=patients)):
        with native_threads():
            model = _model(seed).fit(x[train], y[train])
        probs[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
        progress(ProgressEvent("shortcut baseline", k + 1, n_splits, "shortcut baseline"))
    auc = auc_score(y, probs, len(classes))
    interval = weighted_bootstrap(lambda w: weighted_auc_score(w, y, probs, len(classes)),
                                  patients, seed=seed)
    top = univariate_strength(x, y, names, classes)[:TOP_PROPERTIES]
    result = {**base, "status": "done", "model": "HistGradientBoostingClassifier",
              "folds": n_splits, "grouped_by": "patient_id", "properties": len(names),
              "auc": None if auc is None else round(auc, 4), "interval": interval,
              "flagged": auc is not None and auc >= threshold, "top_properties": top,
              "sources": len({s.source for s in real})}
    result["finding"] = finding(result)
    return result


def finding(result: Mapping[str, Any]) -> str | None:
    """One sentence for a flagged baseline, or None."""
    if not result.get("flagged"):
        return None
    interval = result.get("interval")
    ci = f" (95% CI {interval[0]:.2f}-{interval[1]:.2f})" if interval else ""
    top = ", ".join(f"{t['property']} {t['auc']:.2f}" for t in result["top_properties"][:3])
    return (f"a classifier that reads only outside the lungs predicts the class from image "
            f"properties with ROC-AUC {result['auc']:.2f}{ci}, at or above "
            f"{result['threshold']:g}; "
            f"strongest single properties (AUC): {top}. "
            + ("Harmonise or stratify by source before trusting a CNN's score"
               if result.get("sources", 2) > 1 else
               "With one source, the classes' images were made differently within it: "
               "harmonise them before trusting a CNN's score"))


def baseline_on_split(train: Sequence[Sample], evaluate: Sequence[Sample],
                      properties: Mapping[str, Mapping[str, Any]],
                      classes: Sequence[str], *, seed: int = 0,
                      model_probs: np.ndarray | None = None) -> dict[str, Any] | None:
    """Fit on ``train``, score ``evaluate``: the outside-the-lungs AUC on the model's own split.

    :param classes: class names in the model's output order.
    :param model_probs: the model's probabilities for ``evaluate`` (same order); when
        given, ``difference`` holds model AUC minus baseline AUC on the same images
        with a paired patient-bootstrap interval (both AUCs on each resample).
    :returns: ``auc``, ``interval`` and ``images`` (and ``difference``); None when a
        split lacks a class.
    """
    tr = [s for s in train if not s.synthetic and s.path in properties]
    rows = [i for i, s in enumerate(evaluate) if not s.synthetic and s.path in properties]
    ev = [evaluate[i] for i in rows]
    y_tr = np.array([list(classes).index(s.label) for s in tr])
    y_ev = np.array([list(classes).index(s.label) for s in ev])
    if len(set(y_tr.tolist())) < 2 or len(set(y_ev.tolist())) < 2:
        return None
    x, _ = property_matrix([properties[s.path] for s in tr + ev])
    with native_threads():
        model = _model(seed).fit(x[: len(tr)], y_tr)
    probs = np.zeros((len(ev), len(classes)))
    probs[:, model.classes_] = model.predict_proba(x[len(tr):])
    auc = auc_score(y_ev, probs, len(classes))
    patients = [s.patient_id for s in ev]
    interval = weighted_bootstrap(lambda w: weighted_auc_score(w, y_ev, probs, len(classes)),
                                  patients, seed=seed)
    result: dict[str, Any] = {"auc": None if auc is None else round(auc, 4),
                              "interval": interval, "images": len(ev)}
    if model_probs is not None and auc is not None:
        theirs = np.asarray(model_probs)[rows]

        def lead(w: np.ndarray) -> np.ndarray:  # NaN where either AUC is undefined
            return weighted_auc_score(w, y_ev, theirs, len(classes)) \
                - weighted_auc_score(w, y_ev, probs, len(classes))

        theirs_auc = auc_score(y_ev, theirs, len(classes))
        value = None if theirs_auc is None else theirs_auc - auc
        result["difference"] = {
            "value": None if value is None else round(value, 4),
            "interval": weighted_bootstrap(lead, patients, seed=seed),
            "images": len(ev), "paired": "same images, patients resampled"}
    return result
