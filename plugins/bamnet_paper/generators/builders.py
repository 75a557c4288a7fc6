"""The DCGAN's two networks as pure builders (Radford et al. 2016; keras-io's DCGAN).

Both are plain functional ``keras.Model``\\ s with fixed layer names, built from
``keras.layers`` only. The generator maps a latent vector to a grayscale image
in [-1, 1] (tanh); the discriminator maps an image to one logit. Their outputs
are float32 whatever the compute dtype, so mixed precision stays stable.
"""

from __future__ import annotations

import math
from typing import Any

SIZES = (16, 32, 64, 128, 256)
_START = 4  # both networks meet at a 4x4 feature map


def _stages(size: int) -> int:
    if size not in SIZES:
        raise ValueError(f"image size {size} is not one of {', '.join(map(str, SIZES))}")
    return int(math.log2(size // _START))


def _widths(stages: int, filters: int) -> list[int]:
    """Filters per stage, widest at 4x4, halving towards the image (at least ``filters``)."""
    return [filters * 2 ** min(3, stages - 1 - i) for i in range(stages)]


def build_generator(*, latent_dim: int, size: int, filters: int,
                    dtype: Any = None) -> Any:
    """Latent vector -> ``(size, size, 1)`` image in [-1, 1].

    :param latent_dim: length of the latent vector.
    :param size: output width and height, one of :data:`SIZES`.
    :param filters: filters of the last transposed convolution; earlier ones double (to 8x).
    :param dtype: a Keras dtype policy for every layer but the output (mixed precision).
    """
    import keras

    stages = _stages(size)
    widths = _widths(stages, filters)
    z = keras.Input(shape=(latent_dim,), name="latent")
    x = keras.layers.Dense(_START * _START * widths[0], use_bias=False, dtype=dtype,
                           name="project")(z)
    x = keras.layers.Reshape((_START, _START, widths[0]), name="project_reshape")(x)
    x = keras.layers.BatchNormalization(dtype=dtype, name="project_bn")(x)
    x = keras.layers.ReLU(dtype=dtype, name="project_relu")(x)
    for i, width in enumerate(widths[1:], start=1):
        x = keras.layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                         dtype=dtype, name=f"up{i}_deconv")(x)
        x = keras.layers.BatchNormalization(dtype=dtype, name=f"up{i}_bn")(x)
        x = keras.layers.ReLU(dtype=dtype, name=f"up{i}_relu")(x)
    image = keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh",
                                         dtype="float32", name="image")(x)
    return keras.Model(z, image, name="generator")


def build_discriminator(*, size: int, filters: int, dropout: float = 0.0,
                        dtype: Any = None) -> Any:
    """``(size, size, 1)`` image in [-1, 1] -> one real/fake logit.

    :param size: input width and height, one of :data:`SIZES`.
    :param filters: filters of the first strided convolution; later ones double (to 8x).
    :param dropout: dropout before the logit (0 = none).
    :param dtype: a Keras dtype policy for every layer but the logit.
    """
    import keras

    stages = _stages(size)
    widths = list(reversed(_widths(stages, filters)))
    image = keras.Input(shape=(size, size, 1), name="image")
    x = image
    for i, width in enumerate(widths, start=1):
        x = keras.layers.Conv2D(width, 4, strides=2, padding="same", use_bias=i == 1,
                                dtype=dtype, name=f"down{i}_conv")(x)
        if i > 1:  # no normalisation on the input layer, as in the DCGAN paper
            x = keras.layers.BatchNormalization(dtype=dtype, name=f"down{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, dtype=dtype, name=f"down{i}_lrelu")(x)
    x = keras.layers.Flatten(dtype=dtype, name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, dtype=dtype, name="dropout")(x)
    logit = keras.layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(image, logit, name="discriminator")
