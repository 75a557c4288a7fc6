"""Frozen-backbone features made fit for linear models and nearest neighbours.

Features are standardised and projected onto their leading principal
components, so no single channel of a randomly initialised backbone dominates
distances, and a logistic regression on a thousand images fits in a blink.
"""

from __future__ import annotations

import numpy as np

MAX_COMPONENTS = 48


def reduce_features(features: np.ndarray, *, seed: int = 0,
                    components: int = MAX_COMPONENTS) -> np.ndarray:
    """Standardise, then keep the leading principal components.

    :param features: ``(n, d)`` float array; NaN and infinities become 0.
    :returns: ``(n, min(components, n - 1, d))`` array.
    """
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    x = np.nan_to_num(np.asarray(features, dtype=np.float64).reshape(len(features), -1),
                      nan=0.0, posinf=0.0, neginf=0.0)
    x = StandardScaler().fit_transform(x)
    keep = max(1, min(components, len(x) - 1, x.shape[1]))
    if len(x) < 3:
        return x[:, :keep]
    return PCA(n_components=keep, random_state=seed).fit_transform(x)
