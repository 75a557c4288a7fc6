"""FID, KID and nearest neighbours between two sets of feature vectors (numpy and scipy)."""

from __future__ import annotations

import warnings

import numpy as np


def fid(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to ``a`` and ``b`` (rows are samples).

    With fewer samples than dimensions the covariances are singular; the
    matrix square root is then taken on the real part, as the reference code
    does, and the value is biased upwards: compare FIDs of equal sample sizes.
    """
    from scipy import linalg

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():  # singular with few samples: expected, documented
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(covmean).all():  # the reference fix: nudge both diagonals
            eps = np.eye(len(cov_a)) * 1e-6
            covmean = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    covmean = np.real(covmean)
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2.0 * covmean))
    return max(value, 0.0)


def _mmd2_poly(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased squared MMD with the cubic polynomial kernel of the KID paper."""
    d = a.shape[1]
    k_aa = (a @ a.T / d + 1.0) ** 3
    k_bb = (b @ b.T / d + 1.0) ** 3
    k_ab = (a @ b.T / d + 1.0) ** 3
    m, n = len(a), len(b)
    return float((k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
                 + (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
                 - 2.0 * k_ab.mean())


def kid(a: np.ndarray, b: np.ndarray, *, subsets: int = 50, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Bińkowski et al. 2018): mean and std over random subsets.

    Unbiased, so it is comparable across sample sizes (unlike FID), and may
    be slightly negative when the two sets are alike.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    values = [_mmd2_poly(a[rng.choice(len(a), size, replace=False)],
                         b[rng.choice(len(b), size, replace=False)]) for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between every row of ``a`` and every row of ``b``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    sq = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def nearest(queries: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query row: the index of its nearest ``refs`` row and the distance."""
    d = pairwise(queries, refs)
    idx = d.argmin(1)
    return idx, d[np.arange(len(queries)), idx]


def nearest_other(refs: np.ndarray) -> np.ndarray:
    """For each row of ``refs``: the distance to its nearest *other* row."""
    d = pairwise(refs, refs)
    np.fill_diagonal(d, np.inf)
    return d.min(1)
