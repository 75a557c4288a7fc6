"""``gan-quality``: FID/KID behave as distances, and copies of training images are flagged."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from bamnet_core.contract import PreprocessSpec
from bamnet_paper.gan_quality import distances
from bamnet_paper.gan_quality.evaluator import GanQualityEvaluator


def test_fid_is_zero_for_one_set_and_grows_with_a_shift_of_the_mean():
    a = np.random.default_rng(0).normal(size=(400, 4))
    assert distances.fid(a, a) == pytest.approx(0.0, abs=1e-6)
    assert distances.fid(a, a + 2.0) == pytest.approx(16.0, rel=1e-6)  # |shift|^2 = 4 * 2^2


def _with_moments(mean: np.ndarray, cov: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` samples whose sample mean and (n-1) covariance are exactly ``mean`` and ``cov``."""
    z = np.random.default_rng(seed).normal(size=(n, len(mean)))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # covariance I
    return z @ np.linalg.cholesky(cov).T + mean


def test_fid_is_the_closed_form_frechet_distance_of_known_gaussians():
    # 2-D, covariances that do not commute: tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 S2))
    s1, s2 = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([[1.0, -0.3], [-0.3, 3.0]])
    m1, m2 = np.array([0.0, 0.0]), np.array([1.0, 2.0])
    cross = np.sqrt(np.trace(s1 @ s2) + 2.0 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = 5.0 + np.trace(s1) + np.trace(s2) - 2.0 * cross
    a, b = _with_moments(m1, s1, 50, 0), _with_moments(m2, s2, 70, 1)
    assert distances.fid(a, b) == pytest.approx(expected, rel=1e-9)
    assert distances.fid(b, a) == pytest.approx(expected, rel=1e-9)
    # diagonal covariances: sum of (sqrt(var_a) - sqrt(var_b))^2 plus the squared mean shift
    va, vb = np.array([1.0, 4.0, 9.0, 0.25, 2.0]), np.array([4.0, 1.0, 9.0, 1.0, 8.0])
    shift = np.array([0.0, 1.0, 0.0, -2.0, 0.5])
    a, b = _with_moments(np.zeros(5), np.diag(va), 40, 2), _with_moments(shift, np.diag(vb), 40, 3)
    expected = (shift ** 2).sum() + ((np.sqrt(va) - np.sqrt(vb)) ** 2).sum()  # 1+1+0+.25+2=4.25
    assert distances.fid(a, b) == pytest.approx(expected, rel=1e-9)


def test_fid_with_fewer_samples_than_dimensions_is_exact_and_discriminates():
    """The Inception regime (a few images, 2048 features), at 256 features to stay fast.

    With centred data A and B, tr sqrt(Ca Cb) is the nuclear norm of A B^T over
    sqrt((na - 1)(nb - 1)): exact however singular the covariances are.
    """
    rng = np.random.default_rng(4)
    a, same = rng.normal(size=(8, 256)), rng.normal(size=(8, 256))
    other = rng.normal(0.5, 2.0, size=(8, 256))

    def exact(x: np.ndarray, y: np.ndarray) -> float:
        cx, cy = x - x.mean(0), y - y.mean(0)
        nx, ny = len(x) - 1, len(y) - 1
        cross = np.linalg.svd(cx @ cy.T, compute_uv=False).sum() / np.sqrt(nx * ny)
        return float(((x.mean(0) - y.mean(0)) ** 2).sum() + (cx ** 2).sum() / nx
                     + (cy ** 2).sum() / ny - 2.0 * cross)

    assert distances.fid(a, same) == pytest.approx(exact(a, same), rel=1e-5)
    assert distances.fid(a, other) == pytest.approx(exact(a, other), rel=1e-5)
    assert distances.fid(a, a) == pytest.approx(0.0, abs=1e-6 * exact(a, same))
    assert distances.fid(a, other) > 2.0 * distances.fid(a, same)


def test_kid_is_near_zero_for_two_samples_of_one_distribution_and_not_for_two():
    rng = np.random.default_rng(1)
    same = distances.kid(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)), subsets=10)[0]
    other = distances.kid(rng.normal(size=(300, 8)), rng.normal(1.0, size=(300, 8)),
                          subsets=10)[0]
    assert abs(same) < 0.05 < other


def _phantoms(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32]
    images = []
    for _ in range(n):
        cy, cx, r = rng.uniform(8, 24), rng.uniform(8, 24), rng.uniform(3, 10)
        images.append(((yy - cy) ** 2 + (xx - cx) ** 2 < r ** 2).astype(np.float32) * 0.8 + 0.1)
    return np.stack(images)[..., None]


def _assess(tmp_path, real, synthetic):
    spec = PreprocessSpec(size=32, channels=1, scaling="unit")
    evaluator = GanQualityEvaluator(inception_weights="off", pairs=4)
    return evaluator.assess(real, synthetic, embed=lambda x: x.reshape(len(x), -1)[:, ::16],
                            space="test space", spec=spec,
                            real_paths=[f"real-{i}.png" for i in range(len(real))],
                            synthetic_paths=[f"syn-{i}.png" for i in range(len(synthetic))],
                            outdir=tmp_path)


def test_copies_of_training_images_are_flagged_and_new_images_are_not(tmp_path):
    real = _phantoms(30, 0)
    copies = np.clip(real[:10] + np.random.default_rng(2).normal(0, 0.005, real[:10].shape),
                     0, 1).astype(np.float32)
    result = _assess(tmp_path / "copies", real, copies)
    assert result["memorisation"]["near_copies"] == 10
    assert result["memorisation"]["pixel"]["near_copies"] == 10
    with open(tmp_path / "copies" / "nearest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["pixel_nearest_real"] for r in rows] == [f"real-{i}.png" for i in range(10)]
    assert all(r["near_copy"] == "True" for r in rows)
    assert (tmp_path / "copies" / "nearest-pairs.png").stat().st_size > 1000

    fresh = _assess(tmp_path / "fresh", real, _phantoms(10, 99))
    assert fresh["memorisation"]["pixel"]["near_copies"] < 3
    assert fresh["space"] == "test space"
    json.dumps(fresh)  # JSON-ready


def test_weights_that_are_not_a_file_are_refused_at_config_time(tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        GanQualityEvaluator(space="vgg16", vgg16_weights=str(tmp_path / "missing.h5"))


@pytest.mark.slow  # InceptionV3 at 299 px on CPU, and scipy's sqrtm of 2048x2048 matrices
def test_an_inception_weights_file_adds_the_standard_inception_fid(tmp_path):
    import keras

    from bamnet_paper.gan_quality.spaces import backbone_embedding, gray_unit

    weights = tmp_path / "inception_notop.weights.h5"  # random weights: nothing to download
    keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg",
                                   input_shape=(299, 299, 3)).save_weights(weights)
    spec = PreprocessSpec(size=32, channels=1, scaling="unit")
    real = _phantoms(8, 0)  # bright discs on a dark ground
    noise = np.random.default_rng(5).uniform(0, 1, real.shape).astype(np.float32)
    result = GanQualityEvaluator(inception_weights=str(weights), pairs=2).assess(
        real, noise, embed=lambda x: x.reshape(len(x), -1)[:, ::16], space="test", spec=spec,
        real_paths=[str(i) for i in range(8)], synthetic_paths=[str(i) for i in range(8)],
        outdir=tmp_path / "q")
    inception = result["inception"]
    assert inception["space"].startswith("InceptionV3 pool3")
    assert inception["feature_dim"] == 2048
    # two halves of the discs: the floor; noise against the discs: far above it
    floor = inception["real_vs_real"]["fid"]
    assert 0 < floor and inception["fid"] > 5.0 * floor, inception
    # the same images against themselves, in the same space: zero
    features = backbone_embedding("inception-v3", str(weights))(gray_unit(real, spec))
    assert features.shape == (8, 2048)
    assert distances.fid(features, features) == pytest.approx(0.0, abs=1e-3 * floor)
