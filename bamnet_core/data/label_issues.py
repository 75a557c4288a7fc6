"""Images whose label is probably wrong, by confident learning.

Out-of-sample class probabilities come from a logistic regression on frozen
backbone features, cross-validated with patients as groups (no image is
scored by a model that saw its patient). cleanlab's ``find_label_issues``
(Northcutt et al. 2021) then picks the images whose given label disagrees with
what the rest of the data implies, ranked by how little the model believes
that label (self-confidence).

Everything runs in this process: cleanlab is told ``n_jobs=1``. Its default
forks a ``multiprocessing.Pool`` per call, and a pool torn down while a
signal arrives can leave a forked worker holding the task queue's lock, with
the parent waiting in ``Pool.terminate()`` forever. The pruning it would
spread over workers is one pass per class, milliseconds for a few thousand
images, so nothing is lost by keeping it here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._util.logs import quieted
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..contract.sample import Sample
from .feature_space import reduce_features
from .shortcut_baseline import auc_score

DEFAULT_FOLDS = 5
LIST_LIMIT = 100


def out_of_sample_probabilities(x: np.ndarray, y: np.ndarray, patients: Sequence[str], *,
                                folds: int = DEFAULT_FOLDS, seed: int = 0,
                                progress: ProgressCallback = silent) -> np.ndarray:
    """Class probabilities for every row from a model that never saw its patient."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    n_classes = int(y.max()) + 1
    probs = np.full((len(y), n_classes), 1.0 / n_classes)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    progress(ProgressEvent("label issues", 0, folds, "label issues"))
    for k, (train, test) in enumerate(splitter.split(x, y, groups=list(patients))):
        model = LogisticRegression(C=0.1, max_iter=2000).fit(x[train], y[train])
        probs[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
        progress(ProgressEvent("label issues", k + 1, folds, "label issues"))
    return probs


def label_issues(samples: Sequence[Sample], features: np.ndarray, *,
                 folds: int = DEFAULT_FOLDS, seed: int = 0, limit: int = LIST_LIMIT,
                 progress: ProgressCallback = silent) -> dict[str, Any]:
    """Rank the samples whose label is likely wrong.

    :param features: one row per sample (frozen-backbone features).
    :returns: ``issues`` (how many cleanlab flags), ``oof_auc`` (how well the
        features predict the labels at all), and ``ranked``: the flagged
        images, most suspicious first, each with its ``path``, ``label``,
        ``suggested`` label and ``self_confidence``.
    """
    from cleanlab.filter import find_label_issues

    real = [i for i, s in enumerate(samples) if not s.synthetic]
    chosen = [samples[i] for i in real]
    classes = sorted({s.label for s in chosen})
    per_class = [len({s.patient_id for s in chosen if s.label == c}) for c in classes]
    n_splits = min([folds, *per_class]) if per_class else 0
    if len(classes) < 2 or n_splits < 2:
        return {"status": "skipped", "issues": 0, "ranked": [],
                "reason": "needs two classes with at least two patients each"}
    x = reduce_features(features[real], seed=seed)
    y = np.array([classes.index(s.label) for s in chosen])
    probs = out_of_sample_probabilities(x, y, [s.patient_id for s in chosen], folds=n_splits,
                                        seed=seed, progress=progress)
    with quieted("cleanlab"):
        ranked = find_label_issues(y, probs, return_indices_ranked_by="self_confidence",
                                   n_jobs=1)  # no pool: see the module docstring
    rows = [{"path": chosen[i].path, "label": chosen[i].label,
             "suggested": classes[int(np.argmax(probs[i]))],
             "self_confidence": round(float(probs[i, y[i]]), 4),
             "patient_id": chosen[i].patient_id, "source": chosen[i].source}
            for i in ranked]
    auc = auc_score(y, probs, len(classes))
    return {"status": "done", "method": "cleanlab find_label_issues on grouped out-of-sample "
            "logistic regression", "folds": n_splits, "images": len(chosen),
            "oof_auc": None if auc is None else round(auc, 4),
            "issues": len(rows), "ranked": rows[:limit]}
