"""The GAN's pictures: a grid of samples (the paper's Fig. 5) and the loss curves (Fig. 6)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bamnet_core.contract import figure_png, write_file


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images in [-1, 1], ``(n, h, w[, 1])`` -> uint8 ``(n, h, w)``."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), *images.shape[1:3])
    return np.clip((x + 1.0) * 127.5, 0, 255).round().astype(np.uint8)


def tile(images: Sequence[np.ndarray], columns: int, pad: int = 2) -> np.ndarray:
    """uint8 grayscale images of one size in a grid with white gutters."""
    rows = math.ceil(len(images) / columns)
    h, w = images[0].shape[:2]
    grid = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad), 255, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h,
             pad + c * (w + pad):pad + c * (w + pad) + w] = image
    return grid


def write_png(path: Path, image: np.ndarray) -> None:
    """Write ``image`` as a PNG atomically, once its disk has room for it."""
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"cannot encode {path.name} as PNG")
    write_file(path, data.tobytes(), f"the image {path.name}")


def sample_grid(images: np.ndarray, path: Path, *, min_side: int = 64) -> None:
    """A square-ish grid of generated images; small images are enlarged to ``min_side``."""
    tiles = to_uint8(images)
    side = tiles.shape[1]
    if side < min_side:
        scale = math.ceil(min_side / side)
        tiles = np.stack([cv2.resize(t, (side * scale, side * scale),
                                     interpolation=cv2.INTER_NEAREST) for t in tiles])
    write_png(path, tile(list(tiles), columns=math.ceil(math.sqrt(len(tiles)))))


def loss_plot(history: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """Discriminator and generator loss per epoch, as a PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.5), dpi=100)
    ax = fig.add_subplot()
    epochs = [row["epoch"] for row in history]
    for key, label in (("d_loss", "discriminator"), ("g_loss", "generator")):
        ax.plot(epochs, [row[key] for row in history], label=label, marker="." if
                len(epochs) < 30 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    write_file(path, figure_png(fig), f"the figure {path.name}")
