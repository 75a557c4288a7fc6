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
