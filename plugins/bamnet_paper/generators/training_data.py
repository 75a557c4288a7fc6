"""What the GAN trains on: the real images, decoded once, and each epoch's batches.

Every random number of an epoch (order, latents, augmentation) is drawn here on
the host from ``(seed, epoch)``, so an epoch is the same whether it runs first
or after a resume, and the step stays a pure function on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from bamnet_core.contract import Sample

from . import diffaugment


def read_images(samples: Sequence[Sample], size: int) -> tuple[np.ndarray, list[str]]:
    """Decode ``samples`` as grayscale ``(n, size, size, 1)`` in [-1, 1]; list unreadable ones."""
    images, unreadable = [], []
    for sample in samples:
        image = cv2.imread(sample.path, cv2.IMREAD_GRAYSCALE) \
            if Path(sample.path).is_file() else None
        if image is None or image.size == 0:
            unreadable.append(sample.path)
            continue
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        images.append(image.astype(np.float32) / 127.5 - 1.0)
    if not images:
        return np.zeros((0, size, size, 1), np.float32), unreadable
    return np.stack(images)[..., None], unreadable


def fixed_latents(seed: int, count: int, latent_dim: int) -> np.ndarray:
    """The latent batch of every sample grid, the same at every epoch."""
    return np.random.default_rng([seed, 7]).standard_normal((count, latent_dim)) \
        .astype(np.float32)


def epoch_batches(images: np.ndarray, *, seed: int, epoch: int, batch_size: int,
                  latent_dim: int) -> dict[str, np.ndarray]:
    """One epoch of batches as arrays (whole batches only; the order changes every epoch)."""
    rng = np.random.default_rng([seed, 11, epoch])
    steps = max(1, len(images) // batch_size)
    n = steps * batch_size
    order = np.concatenate([rng.permutation(len(images))
                            for _ in range(-(-n // len(images)))])[:n]
    size = images.shape[1]
    return {
        "real": images[order],
        "z_d": rng.standard_normal((n, latent_dim)).astype(np.float32),
        "z_g": rng.standard_normal((n, latent_dim)).astype(np.float32),
        **diffaugment.draw_params(rng, n, size),
    }
