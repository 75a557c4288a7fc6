"""The default feature space of ``gan-quality``: the classifier's penultimate layer."""

from __future__ import annotations

import numpy as np

from bamnet_core.contract import compose
from bamnet_core.experiment.synthetic_quality import penultimate_embedding


def _extractor_and_head():
    import keras

    inputs = keras.Input((8, 8, 1))
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    extractor = keras.Model(inputs, features, name="backbone")
    head_in = keras.Input((4,))
    hidden = keras.layers.Dense(3, activation="relu", name="head_dense")(head_in)
    head = keras.Model(head_in, keras.layers.Dense(2, activation="softmax",
                                                   name="predictions")(hidden), name="head")
    return extractor, head


def test_a_composed_model_is_embedded_at_its_heads_penultimate_layer():
    import keras

    extractor, head = _extractor_and_head()
    full = compose(extractor, head)
    embed, space = penultimate_embedding(full)
    x = np.random.default_rng(0).normal(size=(5, 8, 8, 1)).astype(np.float32)
    expected = keras.Model(head.inputs, head.get_layer("head_dense").output)(extractor(x))
    assert np.allclose(embed(x), np.asarray(expected), atol=1e-6)
    assert space == "classifier penultimate layer (classifier > head > input of predictions)"


def test_a_flat_model_is_embedded_at_the_input_of_its_last_layer():
    import keras

    extractor, head = _extractor_and_head()
    inputs = keras.Input((8, 8, 1))
    flat = keras.Model(inputs, head.get_layer("predictions")(
        head.get_layer("head_dense")(extractor(inputs))), name="flat")
    embed, space = penultimate_embedding(flat)
    x = np.ones((3, 8, 8, 1), np.float32)
    assert embed(x).shape == (3, 3) and space.endswith("(flat > input of predictions)")
