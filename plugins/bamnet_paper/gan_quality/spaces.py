"""Feature spaces besides the classifier's: VGG16 and the standard Inception FID space."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bamnet_core.contract import PreprocessSpec

INCEPTION_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
_NETWORKS = {"vgg16": ("VGG16", "vgg16", 224), "inception-v3": ("InceptionV3", "inception_v3", 299)}


def keras_cache_file(name: str) -> Path:
    """Where Keras keeps a downloaded weights file (``$KERAS_HOME/models``, else ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "models" / name


def gray_unit(images: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    """Model inputs back to grayscale pixels in [0, 1], ``(n, size, size)``."""
    unit = np.asarray(spec.to_unit(np.asarray(images, np.float32)), np.float32)
    return np.clip(unit.mean(axis=-1), 0.0, 1.0)


def backbone_embedding(name: str, weights: str | None) -> Callable[[np.ndarray], np.ndarray]:
    """Grayscale [0, 1] images -> the global-average-pooled features of a Keras application."""
    import cv2
    import keras

    cls_name, module, side = _NETWORKS[name]
    network: Any = getattr(keras.applications, cls_name)(
        include_top=False, weights=weights, pooling="avg", input_shape=(side, side, 3))
    preprocess = getattr(keras.applications, module).preprocess_input

    def embed(gray: np.ndarray) -> np.ndarray:
        rows = []
        for start in range(0, len(gray), 32):
            batch = np.stack([cv2.resize(g, (side, side), interpolation=cv2.INTER_LINEAR)
                              for g in gray[start:start + 32]])
            rgb = np.repeat(batch[..., None] * 255.0, 3, axis=-1)
            rows.append(network.predict(preprocess(rgb), verbose=0))
        return np.concatenate(rows).astype(np.float64)

    return embed
