"""Mixed precision: float16 losses are scaled, and the softmax stays float32."""

from __future__ import annotations

import keras
import pytest

from bamnet_core.config.schema import OptimizerSection, TrainSection
from bamnet_core.errors import ConfigError
from bamnet_core.train.engine import _compile, _Job
from bamnet_core.train.setup import check_float32_output


@pytest.fixture
def mixed_float16():
    before = keras.config.dtype_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def _model(output_dtype: str | None):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    out = keras.layers.Dense(2, activation="softmax", dtype=output_dtype, name="predictions")(x)
    return keras.Model(inputs, out)


def test_float16_training_scales_the_loss_and_keeps_a_float32_softmax(mixed_float16):
    from bamnet_paper.backbones.small_cnn import SmallCNN

    model = SmallCNN(filters=[4], dense=4).build((16, 16, 1), 2)
    check_float32_output(model, "SmallCNN")
    assert model.get_layer("block1_conv").compute_dtype == "float16"
    assert model.layers[-1].compute_dtype == "float32"
    job = _Job(TrainSection(jit_compile=False), None, 0, None, 2, None)
    _compile(job, model, OptimizerSection(name="adam", lr=1e-3))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_a_float16_softmax_is_refused_with_a_hint(mixed_float16):
    with pytest.raises(ConfigError, match="outputs float16") as caught:
        check_float32_output(_model(None), "Mine")
    assert 'dtype="float32"' in caught.value.hint
    check_float32_output(_model("float32"), "Mine")
