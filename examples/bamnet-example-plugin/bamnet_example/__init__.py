"""An example third-party bamnet plugin.

It adds a dataset source, ``example-shapes`` (discs versus squares, drawn
procedurally, so it needs no data), and a command, ``bamnet example-shapes``,
that writes the images to a folder so you can look at them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bamnet_core.contract import Sample, cache_dir, hookimpl


def draw_shapes(root: Path, per_class: int, size: int, seed: int) -> list[Sample]:
    """Draw ``per_class`` discs and squares into ``root``; return them as samples."""
    import cv2

    root.mkdir(parents=True, exist_ok=True)
    samples = []
    rng = np.random.default_rng(seed)
    for label in ("square", "disc"):
        for i in range(per_class):
            image = rng.normal(60, 12, (size, size)).clip(0, 255).astype(np.uint8)
            r = int(rng.integers(size // 6, size // 3))
            cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
            if label == "disc":
                cv2.circle(image, (cx, cy), r, 200, -1)
            else:
                cv2.rectangle(image, (cx - r, cy - r), (cx + r, cy + r), 200, -1)
            path = root / f"{label}-{i:03d}.png"
            cv2.imwrite(str(path), image)
            samples.append(Sample(path=str(path), label=label, patient_id=f"{label}-{i}",
                                  source="example-shapes"))
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label"])
        writer.writerows((s.path, s.label) for s in samples)
    return samples


class ExampleShapes:
    """Discs versus squares on noise: a source that needs no data.

    :param per_class: images per class.
    :param size: image size in pixels.
    :param seed: drawing seed.
    :param root: where to write the images (default: the bamnet cache).
    """

    def __init__(self, *, per_class: int = 20, size: int = 48, seed: int = 0,
                 root: str | None = None) -> None:
        self.per_class, self.size, self.seed = per_class, size, seed
        key = f"{per_class}-{size}-{seed}"
        self.root = Path(root) if root else cache_dir("example-shapes", key)

    def samples(self) -> list[Sample]:
        """Draw (or redraw) the images and list them."""
        return draw_shapes(self.root, self.per_class, self.size, self.seed)


@hookimpl
def register_dataset_sources(register):
    """Register ``example-shapes``."""
    register("example-shapes", ExampleShapes)


@hookimpl
def register_commands(app):
    """Add ``bamnet example-shapes OUTDIR``."""
    import typer

    @app.command("example-shapes")
    def example_shapes(outdir: Path, per_class: int = 5, size: int = 48) -> None:
        """Write example disc and square images to OUTDIR."""
        samples = draw_shapes(outdir, per_class, size, seed=0)
        typer.echo(f"wrote {len(samples)} images to {outdir}")
