"""The decision rule: turning class probabilities into one predicted class.

Evaluation (metrics in the run folder) and scoring (``bamnet score``) both
call :func:`decide_indices`, so a reported sensitivity describes exactly the
labels the scorer will emit at the same threshold.
"""

from __future__ import annotations

import numpy as np


def decide_indices(probs: np.ndarray, positive_index: int, threshold: float) -> np.ndarray:
    """Predicted class index per row of ``probs``.

    A row is called positive when its positive-class probability reaches
    ``threshold``; otherwise it gets the most probable of the other classes.

    :param probs: ``(n, k)`` class probabilities.
    :param positive_index: column of the positive class.
    :param threshold: positive-class probability cut-off.
    """
    probs = np.asarray(probs, dtype=np.float64)
    others = probs.copy()
    others[:, positive_index] = -np.inf
    return np.where(probs[:, positive_index] >= threshold, positive_index,
                    others.argmax(axis=1))


def threshold_for_sensitivity(truth: np.ndarray, score: np.ndarray,
                              target: float) -> float | None:
    """The highest cut-off whose sensitivity on ``(truth, score)`` is at least ``target``
    (None without a positive row).

    :param truth: boolean, True for the positive class.
    :param score: the positive-class probability of each row.
    """
    positives = np.sort(np.asarray(score, dtype=np.float64)[np.asarray(truth, bool)])[::-1]
    if not len(positives):
        return None
    need = int(np.ceil(target * len(positives)))
    return float(positives[max(need, 1) - 1])


def youden_threshold(truth: np.ndarray, score: np.ndarray) -> float | None:
    """The cut-off that maximises Youden's J (sensitivity + specificity - 1) on
    ``(truth, score)``; None unless both classes are present.

    Among the distinct scores, the best cut-off ``c`` (called positive at ``score >= c``;
    the highest of equally good ones) is moved halfway down to the next lower score,
    so an image scored a little below the lowest chosen positive is still called
    positive; the result stays in ``[0, 1]``.
    """
    truth = np.asarray(truth, bool)
    score = np.asarray(score, dtype=np.float64)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if not positives or not negatives:
        return None
    cuts, first = np.unique(-score, return_inverse=True)
    cuts = -cuts  # distinct scores, highest first; first[i]: the cut of row i
    called_pos = np.cumsum(np.bincount(first, weights=truth, minlength=len(cuts)))
    called_neg = np.cumsum(np.bincount(first, weights=~truth, minlength=len(cuts)))
    j = called_pos / positives - called_neg / negatives  # sensitivity + specificity - 1
    best = int(np.argmax(j))  # the first (highest) of equal maxima
    below = cuts[best + 1] if best + 1 < len(cuts) else 0.0
    return float((cuts[best] + below) / 2)
