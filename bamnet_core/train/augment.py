"""Training-split augmentation from ``[train.augment]``, on the host, the same on every backend.

Each batch is augmented in the input pipeline with OpenCV and NumPy, before
it reaches the model, so augmentation needs no TensorFlow and costs the
accelerator nothing. Images are first mapped back to the [0, 1] range their
:class:`PreprocessSpec` came from, so "black" fill and brightness mean the
same thing for ``unit`` and ``vgg16`` scaling, then mapped forward again.

Every random number of a batch comes from a generator seeded by (``seed``,
epoch, step), so a batch is the same whichever worker thread builds it, and a
resumed run sees the augmentations an uninterrupted one would have.

Per image: one affine warp (rotation by up to ``rotation`` degrees either way,
scale by a factor in ``1 ± zoom``, shift by up to ``shift`` of the size in
each direction; bilinear, black outside the image), then a brightness offset
in ``± brightness`` added in [0, 1] units and clipped to [0, 1].
"""

from __future__ import annotations

import numpy as np

from ..config.schema import AugmentSection
from ..imaging.preprocess import PreprocessSpec


def augment_enabled(augment: AugmentSection) -> bool:
    """Whether any augmentation in ``[train.augment]`` is switched on."""
    return any(float(v) > 0 for v in augment.model_dump().values())


def epoch_seed(seed: int, epoch: int, salt: int = 0) -> int:
    """A 31-bit seed for one epoch (and purpose), stable across processes."""
    return int(np.random.SeedSequence([seed, epoch, salt]).generate_state(1)[0] % (2**31 - 1))


def batch_rng(seed: int, epoch: int, step: int) -> np.random.Generator:
    """The random generator of one training batch's augmentation."""
    return np.random.default_rng([seed, epoch, 2, step])


def _warp(image: np.ndarray, angle: float, scale: float, dx: float, dy: float) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, scale)
    matrix[0, 2] += dx * w
    matrix[1, 2] += dy * h
    out = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return out.reshape(image.shape)


def augment_batch(batch: np.ndarray, augment: AugmentSection, spec: PreprocessSpec,
                  rng: np.random.Generator) -> np.ndarray:
    """``batch`` (preprocessed, channels last) augmented as ``[train.augment]`` says.

    Always draws the same numbers from ``rng`` whatever is switched on, so
    turning one augmentation on does not change the others' draws.
    """
    n = len(batch)
    angles = rng.uniform(-1.0, 1.0, n) * augment.rotation
    scales = 1.0 + rng.uniform(-1.0, 1.0, n) * augment.zoom
    shifts = rng.uniform(-1.0, 1.0, (n, 2)) * augment.shift
    deltas = rng.uniform(-1.0, 1.0, n) * augment.brightness
    x = np.asarray(spec.to_unit(np.asarray(batch, dtype=np.float32)), dtype=np.float32)
    if augment.rotation > 0 or augment.zoom > 0 or augment.shift > 0:
        x = np.stack([_warp(image, float(a), float(s), float(d[0]), float(d[1]))
                      for image, a, s, d in zip(x, angles, scales, shifts, strict=True)])
    if augment.brightness > 0:
        x = np.clip(x + deltas[:, None, None, None].astype(np.float32), 0.0, 1.0)
    return np.asarray(spec.from_unit(x), dtype=np.float32)
