"""Evaluation's inference: one forward pass gives the probabilities and the features."""

from __future__ import annotations

import numpy as np
import pytest

from bamnet_core.imaging.preprocess import PreprocessSpec


@pytest.fixture(scope="module")
def small_model():
    from bamnet_core.train.backend import import_keras
    from bamnet_paper.backbones import SmallCNN

    import_keras()
    spec = PreprocessSpec(size=16, channels=1)
    return SmallCNN(filters=[4, 8], dense=8).build(spec.input_shape, 2), spec


def test_features_come_from_the_probabilities_pass(small_model, monkeypatch):
    import bamnet_core.train.inference as inference

    model, spec = small_model
    x = np.random.default_rng(0).random((70, 16, 16, 1), dtype=np.float32)
    run = inference.ModelInference(model, spec, from_cache=False)
    probs = run.probabilities(x)
    assert np.allclose(probs, np.asarray(model(x, training=False)), atol=1e-6)
    features = run.features()
    assert features is not None

    def no_second_pass(*args, **kwargs):
        raise AssertionError("the features were computed again")

    monkeypatch.setattr(inference, "_batched", no_second_pass)
    got = features(x)
    monkeypatch.undo()
    penultimate = inference._penultimate_model(model)
    assert got.shape == (70, int(np.prod(penultimate.output.shape[1:])))
    assert np.allclose(got, np.asarray(penultimate(x, training=False)).reshape(70, -1),
                       atol=1e-6)


def test_other_images_and_occluded_ones_run_the_model(small_model):
    from bamnet_core.train.inference import ModelInference, _penultimate_model

    model, spec = small_model
    rng = np.random.default_rng(1)
    x, other = (rng.random((5, 16, 16, 1), dtype=np.float32) for _ in range(2))
    run = ModelInference(model, spec, from_cache=False)
    run.probabilities(x)
    expected = np.asarray(_penultimate_model(model)(other, training=False)).reshape(5, -1)
    assert np.allclose(run.features()(other), expected, atol=1e-6)
    full = run.probabilities(other, cached=False)
    assert np.allclose(full, np.asarray(model(other, training=False)), atol=1e-6)
    assert run.probabilities(x[:0]).shape == (0, 2)
