"""Differentiable augmentation for GANs on small datasets (DiffAugment, Zhao et al. 2020).

The same random transform family is applied to real and fake images before
the discriminator sees them, so gradients flow through it to the generator
and the discriminator cannot memorise a few hundred real images. Everything
random is an input (drawn on the host by :func:`draw_params`), so the step is
a pure function of its inputs on every backend; the transforms are
``keras.ops`` only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

POLICIES = ("color", "translation", "cutout")


def draw_params(rng: np.random.Generator, batch: int, size: int) -> dict[str, np.ndarray]:
    """Random parameters for one batch: brightness, contrast, shifts, cutout centres."""
    shift = size // 8  # DiffAugment: translation by up to 1/8 of the image
    return {
        "brightness": rng.uniform(-0.5, 0.5, (batch, 1, 1, 1)).astype("float32"),
        "contrast": rng.uniform(0.5, 1.5, (batch, 1, 1, 1)).astype("float32"),
        "shift_y": rng.integers(-shift, shift + 1, batch).astype("int32"),
        "shift_x": rng.integers(-shift, shift + 1, batch).astype("int32"),
        "cut_y": rng.integers(0, size, batch).astype("int32"),
        "cut_x": rng.integers(0, size, batch).astype("int32"),
    }


def _shift_matrix(shift: Any, size: int) -> Any:
    """One-hot matrices ``m[b, i, j] = 1 if j == i - shift[b]``: zero-padded translation."""
    from keras import ops

    i = ops.arange(size, dtype="int32")[None, :, None]
    j = ops.arange(size, dtype="int32")[None, None, :]
    return ops.cast(ops.equal(j, i - ops.reshape(shift, (-1, 1, 1))), "float32")


def augment(x: Any, params: dict[str, Any], policy: tuple[str, ...]) -> Any:
    """Apply ``policy`` (a subset of :data:`POLICIES`, in order) to ``x`` in [-1, 1].

    :param x: images, ``(batch, size, size, 1)``.
    :param params: tensors from :func:`draw_params` for the same batch (rows may be
        fewer than ``params`` has; the first rows are used).
    """
    from keras import ops

    x = ops.cast(x, "float32")
    batch, size = ops.shape(x)[0], x.shape[1]
    p = {k: v[:batch] for k, v in params.items()}
    if "color" in policy:
        x = x + p["brightness"]
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        x = (x - mean) * p["contrast"] + mean
    if "translation" in policy:
        rows = _shift_matrix(p["shift_y"], size)
        cols = _shift_matrix(p["shift_x"], size)
        x = ops.einsum("bij,bjkc->bikc", rows, x)
        x = ops.einsum("bkj,bijc->bikc", cols, x)
    if "cutout" in policy:
        half = size // 4  # a square of half the image side, as in DiffAugment
        ys = ops.arange(size, dtype="int32")[None, :, None, None]
        xs = ops.arange(size, dtype="int32")[None, None, :, None]
        cy = ops.reshape(p["cut_y"], (-1, 1, 1, 1))
        cx = ops.reshape(p["cut_x"], (-1, 1, 1, 1))
        inside = ops.logical_and(ops.less(ops.abs(ys - cy), half),
                                 ops.less(ops.abs(xs - cx), half))
        x = x * (1.0 - ops.cast(inside, "float32"))
    return x
