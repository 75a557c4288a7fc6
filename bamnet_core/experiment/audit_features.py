"""Frozen-backbone features for the deep audit (label issues, outliers).

Any registered backbone serves: a :class:`SplitBackbone` gives its feature
extractor; any other is built and cut at its last spatial layer. Random
weights are fine for finding images unlike the rest; local ImageNet weights
are better. The feature map is averaged over a 4x4 grid, which keeps where
things are (a lateral view or a CT slice has its anatomy elsewhere), and the
extractor's outputs are cached on disk (:mod:`bamnet_core.train.feature_cache`),
so a second audit of the same images runs no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, silent
from ..contract.capabilities import SplitBackbone
from ..contract.sample import Sample
from ..data.loading import LoadedImages, load_samples
from ..imaging.preprocess import PreprocessSpec
from ..imaging.properties import LungSource

GRID = 4


def _extractor(backbone: Any, spec: PreprocessSpec, seed: int) -> Any:
    import keras

    keras.utils.set_random_seed(seed)  # the same random weights, so cached features hit
    if isinstance(backbone, SplitBackbone):
        return backbone.feature_extractor(spec.input_shape)
    model = backbone.build(spec.input_shape, 2)
    spatial = [layer for layer in model.layers if len(layer.output.shape) == 4]
    if not spatial:
        return model
    return keras.Model(model.input, spatial[-1].output, name="audit_features")


def grid_pool(maps: np.ndarray, grid: int = GRID) -> np.ndarray:
    """``(n, h, w, c)`` feature maps -> ``(n, g*g*c)`` means over a ``g`` x ``g`` grid."""
    if maps.ndim != 4:
        return maps.reshape(len(maps), -1)
    rows = np.array_split(np.arange(maps.shape[1]), min(grid, maps.shape[1]))
    cols = np.array_split(np.arange(maps.shape[2]), min(grid, maps.shape[2]))
    cells = [maps[:, r][:, :, c].mean(axis=(1, 2)) for r in rows for c in cols]
    return np.concatenate(cells, axis=1)


def frozen_features(samples: Sequence[Sample], backbone: Any, spec: PreprocessSpec, *,
                    seed: int = 0, lungs: LungSource | None = None,
                    progress: ProgressCallback = silent,
                    ) -> tuple[np.ndarray, LoadedImages]:
    """Decode ``samples`` (cached) and return one feature row per decoded image.

    :param lungs: passed to :func:`~bamnet_core.data.loading.load_samples` (a decode also
        describes the image outside these lung fields, for the audit).

    :returns: features ``(n_ok, d)`` and the loaded images (samples, errors).
    """
    from ..train.feature_cache import cached_features

    loaded = load_samples(samples, spec, progress=progress, stage="decode (audit)",
                          lungs=lungs)
    if not loaded.samples:
        return np.zeros((0, 0), dtype=np.float32), loaded
    extractor = _extractor(backbone, spec, seed)
    maps, _ = cached_features(extractor, loaded.x, spec=spec, progress=progress,
                              stage="audit features")
    return grid_pool(maps), loaded
