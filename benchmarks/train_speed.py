"""Classifier training speed on CPU or GPU: images/s of ``train_model``, augmentation off and on.

Trains the ``small-cnn`` backbone (filters 16/32/64, the quickstart's) on
random images held in memory, through bamnet's own training engine (input
pipeline, callbacks, checkpoints), and prints one JSON line per setting with
the backend, the images/s of the epochs after the first (the first compiles),
and the wall seconds of the whole fit. Run it on two checkouts back to back to
compare input pipelines. Not a test.

    PYTHONPATH=.:plugins python benchmarks/train_speed.py
    KERAS_BACKEND=jax PYTHONPATH=.:plugins python benchmarks/train_speed.py --images 256
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bamnet_core.runs import layout


def measure(*, images: int, size: int, epochs: int, batch: int, augment: bool) -> dict:
    """Train once and return the measured rates."""
    import keras

    from bamnet_core.config.schema import TrainSection
    from bamnet_core.imaging.preprocess import PreprocessSpec
    from bamnet_paper.backbones.small_cnn import SmallCNN

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (images, size, size, 1)).astype(np.float32)
    y = rng.integers(0, 2, images)
    xv, yv = x[: images // 4], y[: images // 4]
    extra = {"augment": {"rotation": 10.0, "shift": 0.1, "zoom": 0.1, "brightness": 0.1}} \
        if augment else {}
    train = TrainSection(epochs=epochs, batch_size=batch, restore_best=False, **extra)
    spec = PreprocessSpec(size=size, channels=1, scaling="unit")
    from bamnet_core.train.engine import train_model

    with tempfile.TemporaryDirectory() as run_dir:
        start = time.perf_counter()
        train_model(SmallCNN(filters=[16, 32, 64], dense=64), spec, x, y, xv, yv, train=train,
                    num_classes=2, seed=0, run_dir=run_dir)
        wall = time.perf_counter() - start
        with open(Path(run_dir) / layout.HISTORY, newline="") as fh:
            seconds = [float(r["seconds"]) for r in csv.DictReader(fh)]
    later = seconds[1:] or seconds
    return {"backend": keras.backend.backend(), "augment": augment, "images": images,
            "size": size, "batch": batch, "epochs": epochs,
            "first_epoch_s": round(seconds[0], 2),
            "images_per_s": round(images / (sum(later) / len(later)), 1),
            "fit_wall_s": round(wall, 2)}


def main() -> None:
    """Parse the options and print one JSON line per setting."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    for augment in (False, True):
        print(json.dumps(measure(images=args.images, size=args.size, epochs=args.epochs,
                                 batch=args.batch, augment=augment)), flush=True)


if __name__ == "__main__":
    main()
