"""``small-cnn``: a compact CNN for CPU demos and tests."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field


class SmallCNN:
    """A compact CNN for CPU: conv blocks, global average pooling, a dense head.

    :param filters: filters of each conv block (each block halves the size).
    :param dense: units of the hidden dense layer.
    :param dropout: dropout before the classifier.
    """

    def __init__(self, *,
                 filters: Annotated[list[Annotated[int, Field(ge=1)]],
                                    Field(min_length=1)] = [16, 32, 64],  # noqa: B006
                 dense: Annotated[int, Field(ge=1)] = 64,
                 dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.3) -> None:
        if not filters or any(f < 1 for f in filters) or dense < 1 or not 0 <= dropout < 1:
            raise ValueError("small-cnn needs positive filters and dense, and 0 <= dropout < 1")
        self.filters = list(filters)
        self.dense = dense
        self.dropout = dropout

    @property
    def gradcam_layer(self) -> str:
        """Grad-CAM reads the last block's activation (``NamesGradCamLayer``)."""
        return f"block{len(self.filters)}_relu"

    def build(self, input_shape: tuple[int, int, int], num_classes: int):
        """Build the model; layer names are fixed (``block<i>_conv``, ``head_dense``, ...)."""
        import keras

        inputs = keras.Input(shape=input_shape, name="image")
        x = inputs
        for i, f in enumerate(self.filters, start=1):
            x = keras.layers.Conv2D(f, 3, padding="same", name=f"block{i}_conv")(x)
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"block{i}_bn")(x)
            x = keras.layers.Activation("relu", name=f"block{i}_relu")(x)
            x = keras.layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
        x = keras.layers.Dense(self.dense, activation="relu", name="head_dense")(x)
        x = keras.layers.Dropout(self.dropout, name="head_dropout")(x)
        # float32 output keeps softmax stable under mixed precision.
        outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                                     name="predictions")(x)
        return keras.Model(inputs, outputs, name="small_cnn")
