"""Classification heads for a backbone's feature maps, registered by name.

Each builder is a pure function ``(feature_shape, num_classes, dropout) ->
keras.Model`` named ``"head"`` with fixed layer names (``head_*``,
``predictions``). The final layer is float32 so softmax stays stable under
mixed precision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bamnet_core.contract import ConfigError


def pyimagesearch(feature_shape: tuple[int, ...], num_classes: int, dropout: float) -> Any:
    """The pyimagesearch COVID tutorial head the paper started from.

    AveragePooling2D(4x4) -> Flatten -> Dense(64, relu) -> Dropout -> Dense(softmax).
    The pool shrinks to the feature map when that is smaller than 4x4 (tiny inputs).
    """
    import keras

    h, w = int(feature_shape[0]), int(feature_shape[1])
    inputs = keras.Input(shape=feature_shape, name="features")
    x = keras.layers.AveragePooling2D(pool_size=(min(4, h), min(4, w)), name="head_pool")(inputs)
    x = keras.layers.Flatten(name="head_flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="head_dense")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                                 name="predictions")(x)
    return keras.Model(inputs, outputs, name="head")


def paper_best(feature_shape: tuple[int, ...], num_classes: int, dropout: float) -> Any:
    """The paper's final head: 3 conv and 3 dense layers, batch norm, ReLU and LeakyReLU.

    Conv(256)-BN-ReLU, Conv(128)-BN-LeakyReLU, Conv(64)-BN-ReLU, Flatten,
    Dense(256)-BN-LeakyReLU-Dropout, Dense(64)-ReLU-Dropout, Dense(softmax).
    The paper gives the layer kinds, not the widths; these widths are ours.
    """
    import keras

    inputs = keras.Input(shape=feature_shape, name="features")
    x = inputs
    for i, (filters, act) in enumerate([(256, "relu"), (128, "leaky"), (64, "relu")], start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                name=f"head_conv{i}")(x)
        x = keras.layers.BatchNormalization(name=f"head_conv{i}_bn")(x)
        x = _activation(keras, act, f"head_conv{i}_{act}")(x)
    x = keras.layers.Flatten(name="head_flatten")(x)
    x = keras.layers.Dense(256, use_bias=False, name="head_dense1")(x)
    x = keras.layers.BatchNormalization(name="head_dense1_bn")(x)
    x = _activation(keras, "leaky", "head_dense1_leaky")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout1")(x)
    x = keras.layers.Dense(64, activation="relu", name="head_dense2")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout2")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                                 name="predictions")(x)
    return keras.Model(inputs, outputs, name="head")


def _activation(keras: Any, kind: str, name: str) -> Any:
    if kind == "leaky":
        return keras.layers.LeakyReLU(negative_slope=0.1, name=name)
    return keras.layers.Activation("relu", name=name)


HEADS: dict[str, Callable[[tuple[int, ...], int, float], Any]] = {
    "pyimagesearch": pyimagesearch,
    "paper-best": paper_best,
}


def check_head(name: str) -> Callable[[tuple[int, ...], int, float], Any]:
    """The builder of head ``name``; an unknown name lists the known ones."""
    try:
        return HEADS[name]
    except KeyError:
        raise ConfigError(f"[backbone] head {name!r} is unknown; heads: {', '.join(HEADS)}",
                          hint=f"set head to one of: {', '.join(HEADS)}") from None
