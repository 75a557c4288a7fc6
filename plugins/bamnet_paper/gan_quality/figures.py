"""The memorisation check's picture: each synthetic image beside its nearest real image."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bamnet_core.contract import figure_png, write_file


def nearest_pairs_png(path: Path, synthetic: np.ndarray, real: np.ndarray,
                      dist: np.ndarray, *, ratio: float) -> None:
    """Pairs (synthetic | nearest real, pixel space) in a grid, closest first, as a PNG."""
    from matplotlib.figure import Figure

    n = len(synthetic)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(2.4 * 2 * cols, 2.6 * rows), dpi=90)
    axes = fig.subplots(rows, 2 * cols, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        r, c = divmod(i, cols)
        for k, (image, title) in enumerate(((synthetic[i], f"synthetic #{i + 1}"),
                                            (real[i], f"nearest real, d={dist[i]:.3f}"))):
            ax = axes[r, 2 * c + k]
            ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_title(title, fontsize=8)
    fig.suptitle("Closest synthetic/real pairs (pixel space); near-copy when d < "
                 f"{ratio:g} x median real-to-real distance", fontsize=9)
    fig.tight_layout()
    write_file(path, figure_png(fig), f"the figure {path.name}")
