"""Training-split augmentation from ``[train.augment]``, built from Keras random layers.

Augmentation runs in the tf.data pipeline on preprocessed batches. Images
are first mapped back to the [0, 1] range their :class:`PreprocessSpec` came
from, so "black" fill and brightness mean the same thing for ``unit`` and
``vgg16`` scaling, then mapped forward again. Layers are seeded per epoch
(``seed``, ``epoch``), so a resumed run sees the augmentations an
uninterrupted one would have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..config.schema import AugmentSection
from ..imaging.preprocess import PreprocessSpec


def augment_enabled(augment: AugmentSection) -> bool:
    """Whether any augmentation in ``[train.augment]`` is switched on."""
    return any(float(v) > 0 for v in augment.model_dump().values())


def epoch_seed(seed: int, epoch: int, salt: int = 0) -> int:
    """A 31-bit seed for one epoch (and purpose), stable across processes."""
    return int(np.random.SeedSequence([seed, epoch, salt]).generate_state(1)[0] % (2**31 - 1))


def build_augmenter(augment: AugmentSection, spec: PreprocessSpec,
                    seed: int) -> Callable[[Any], Any] | None:
    """A function augmenting one batch of preprocessed images, or None when all is off.

    :param augment: the resolved ``[train.augment]`` table.
    :param spec: how the images were preprocessed.
    :param seed: seed of the random layers (use :func:`epoch_seed`).
    """
    import keras

    layers: list[Any] = []
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    if augment.rotation > 0:
        layers.append(keras.layers.RandomRotation(augment.rotation / 360.0, seed=seed,
                                                  name="augment_rotation", **fill))
    if augment.shift > 0:
        layers.append(keras.layers.RandomTranslation(augment.shift, augment.shift,
                                                     seed=seed + 1, name="augment_shift", **fill))
    if augment.zoom > 0:
        layers.append(keras.layers.RandomZoom(augment.zoom, seed=seed + 2,
                                              name="augment_zoom", **fill))
    if augment.brightness > 0:
        layers.append(keras.layers.RandomBrightness(augment.brightness, value_range=(0.0, 1.0),
                                                    seed=seed + 3, name="augment_brightness"))
    if not layers:
        return None

    def apply(batch: Any) -> Any:
        x = spec.to_unit(batch)
        for layer in layers:
            x = layer(x, training=True)
        return spec.from_unit(x)

    return apply
