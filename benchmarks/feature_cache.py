"""Epoch time of VGG16 (224x224, frozen, paper-best head) with and without the feature cache.

Reads a manifest.csv (columns path,label; paths relative to it) with a few
lines of csv, takes the first ``--images`` rows spread over the classes,
decodes them once, then trains the same model twice for ``--epochs``
epochs: through the full model, and on cached features. Prints per-epoch
seconds and the ratio from the second epoch on. Not a test.

    PYTHONPATH=.:plugins python benchmarks/feature_cache.py --images 200 --epochs 3
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_data import data_folder  # noqa: E402


def read_manifest(path: Path, limit: int) -> list[tuple[str, str]]:
    """(file, label) pairs: the first ``limit // 2`` rows of each of the two first classes."""
    per_class: dict[str, list[tuple[str, str]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            per_class.setdefault(row["label"], []).append((str(path.parent / row["path"]),
                                                           row["label"]))
    labels = sorted(per_class)[:2]
    return [item for label in labels for item in per_class[label][: limit // 2]]


def main() -> None:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=None,
                        help="default: manifest.csv in $BAMNET_DATA or ../shared/data/cxr-public")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=40)
    args = parser.parse_args()
    args.manifest = data_folder(args.manifest) / "manifest.csv"
    os.environ.setdefault("BAMNET_CACHE_DIR", tempfile.mkdtemp(prefix="bamnet-bench-"))

    from bamnet_core.config.schema import TrainSection
    from bamnet_core.contract import Sample
    from bamnet_core.data.loading import load_samples
    from bamnet_core.imaging.preprocess import PreprocessSpec
    from bamnet_core.train.engine import train_model
    from bamnet_core.train.setup import seed_everything
    from bamnet_paper.backbones.vgg16 import VGG16Backbone

    rows = read_manifest(args.manifest, args.images)
    labels = sorted({label for _, label in rows})
    samples = [Sample(path=p, label=lab, patient_id=p, source="bench") for p, lab in rows]
    spec = PreprocessSpec(size=224, channels=3, scaling="caffe")
    start = time.perf_counter()
    loaded = load_samples(samples, spec)
    print(f"decoded {len(loaded.samples)} images ({len(loaded.errors)} failed) "
          f"in {time.perf_counter() - start:.1f} s")
    y = np.array([labels.index(s.label) for s in loaded.samples], dtype=np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    cut = int(0.7 * len(y))
    tr, va = order[:cut], order[cut:]

    base = TrainSection(epochs=args.epochs, batch_size=args.batch_size)
    times = {}
    for mode in (False, True):
        seed_everything(0)
        train = base.model_copy(update={"feature_cache": mode})
        with tempfile.TemporaryDirectory() as run_dir:
            t0 = time.perf_counter()
            result = train_model(VGG16Backbone(weights="none", head="paper-best"), spec,
                                 loaded.x[tr], y[tr], loaded.x[va], y[va], train=train,
                                 num_classes=len(labels), seed=0, run_dir=run_dir)
            total = time.perf_counter() - t0
        times[mode] = [float(r["seconds"]) for r in result.history]
        name = "cached features" if mode else "full model"
        print(f"{name:16s} total {total:7.1f} s (feature extraction included); epochs (s): "
              + ", ".join(f"{s:.2f}" for s in times[mode]))
    later_full, later_cached = np.mean(times[False][1:]), np.mean(times[True][1:])
    print(f"train {len(tr)} / val {len(va)} images at 224x224, batch {args.batch_size}")
    print(f"epoch time from the 2nd epoch on: full {later_full:.2f} s, cached "
          f"{later_cached:.3f} s, ratio {later_full / later_cached:.1f}x")


if __name__ == "__main__":
    main()
