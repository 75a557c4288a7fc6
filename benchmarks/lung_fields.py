"""Lung fields against the reference masks: Dice per image, its median, and the time per image.

    PYTHONPATH=.:plugins python benchmarks/lung_fields.py [--data DIR] [--estimator NAME] \
        [--size 224] [--quiet]

Reads ``DIR/lung-masks/index.csv`` (146 masks made by a published segmentation
model; see that folder's README) and the images it names, estimates each image's
lung fields with the run's lung-field estimator (the registered default unless
``--estimator`` names another), and prints the Dice of each against its mask, the
median, and the fixed box bamnet masked before (rows 20-85%, columns 15-85%) for
comparison. ``--size N`` estimates on the image resized to N x N, as a model input
is (the mask resized the same way, nearest neighbour); without it, at the image's
own size. Times exclude decoding. Nothing is written; the masks stay where they are.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_data import add_data_argument, data_folder  # noqa: E402

from bamnet_core.config.components import instantiate  # noqa: E402
from bamnet_core.imaging.decode import decode_image  # noqa: E402
from bamnet_core.plugins import load_plugins  # noqa: E402


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Twice the overlap over the sum of the areas (1.0 for two empty masks)."""
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(a, b).sum()) / total


def fixed_box(shape: tuple[int, int]) -> np.ndarray:
    """The box bamnet masked before it had lung fields: rows 20-85%, columns 15-85%."""
    h, w = shape
    box = np.zeros((h, w), dtype=bool)
    box[int(0.20 * h):int(0.85 * h), int(0.15 * w):int(0.85 * w)] = True
    return box


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_argument(parser)
    parser.add_argument("--estimator", default=None, help="a registered lung-field estimator")
    parser.add_argument("--size", type=int, default=None, help="estimate at N x N")
    parser.add_argument("--quiet", action="store_true", help="only the summary")
    args = parser.parse_args(argv)
    folder = data_folder(args.data)
    registry = load_plugins().registry
    name = args.estimator or registry.defaults("lung_field_estimator")[0]
    estimator = instantiate(registry.get("lung_field_estimator", name), {}, where="benchmark")
    with open(folder / "lung-masks" / "index.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    ours, boxes, seconds, cpu = [], [], [], []
    if not args.quiet:
        print(f"{'image':<72} {'dice':>6} {'box':>6}")
    for row in rows:
        image = decode_image(folder / row["image"])
        mask = cv2.imread(str(folder / row["mask"]), cv2.IMREAD_GRAYSCALE) > 127
        if args.size:
            image = cv2.resize(image, (args.size, args.size), interpolation=cv2.INTER_AREA)
            mask = cv2.resize(mask.astype(np.uint8), (args.size, args.size),
                              interpolation=cv2.INTER_NEAREST).astype(bool)
        start, start_cpu = time.perf_counter(), time.process_time()
        field = np.asarray(estimator.estimate(image), dtype=bool)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        ours.append(dice(field, mask))
        boxes.append(dice(fixed_box(mask.shape), mask))
        if not args.quiet:
            print(f"{Path(row['image']).name[:72]:<72} {ours[-1]:6.3f} {boxes[-1]:6.3f}")
    at = f"{args.size} x {args.size}" if args.size else "each image's own size"
    print(f"\n{len(rows)} images, estimator {name!r}, at {at}")
    print(f"median Dice: {statistics.median(ours):.3f} (fixed box: "
          f"{statistics.median(boxes):.3f})")
    print(f"quartiles: {np.percentile(ours, 25):.3f} - {np.percentile(ours, 75):.3f}; "
          f"lowest {min(ours):.3f}; at or above 0.85: {sum(d >= 0.85 for d in ours)} of "
          f"{len(ours)}")
    print(f"time per image: {1000 * statistics.median(seconds):.2f} ms median wall clock, "
          f"{1000 * max(seconds):.2f} ms at most; processor time {1000 * sum(cpu) / len(cpu):.2f} "
          "ms on average (wall clock counts other work on a busy machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
