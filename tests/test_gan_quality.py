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


@pytest.mark.slow  # builds InceptionV3 at 299 px on CPU
def test_an_inception_weights_file_adds_the_standard_inception_fid(tmp_path):
    import keras

    weights = tmp_path / "inception_notop.weights.h5"
    keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg",
                                   input_shape=(299, 299, 3)).save_weights(weights)
    spec = PreprocessSpec(size=32, channels=1, scaling="unit")
    real, syn = _phantoms(6, 0), _phantoms(4, 1)
    result = GanQualityEvaluator(inception_weights=str(weights), pairs=2).assess(
        real, syn, embed=lambda x: x.reshape(len(x), -1)[:, ::16], space="test", spec=spec,
        real_paths=[str(i) for i in range(6)], synthetic_paths=[str(i) for i in range(4)],
        outdir=tmp_path / "q")
    assert result["inception"]["space"].startswith("InceptionV3 pool3")
    assert result["inception"]["feature_dim"] == 2048 and result["inception"]["fid"] >= 0
