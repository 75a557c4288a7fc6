"""Build a run folder around any Keras model, so benchmarks can call ``export_onnx``.

Not a benchmark itself: ``bench_*.py`` import it. The folder holds exactly what
export reads: model.keras, preprocess.json, metrics.json, splits.csv, config.toml.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_core.runs import layout
from bamnet_core.runs.files import MetricsFile
from bamnet_core.runs.folder import RunFolder


def real_images(root: str | None = None, per_class: int = 64) -> list[tuple[str, str]]:
    """(path, label) pairs from the public CXR folder, alternating classes (read-only use).

    ``root`` defaults to ``bench_data.data_folder()`` (``$BAMNET_DATA`` or the shared folder).
    """
    from bench_data import data_folder

    base = data_folder(root)
    pairs = []
    for label in ("normal", "covid"):
        files = sorted((base / label).glob("*.jpg"))[:per_class]
        pairs += [(str(f), label) for f in files]
    return sorted(pairs, key=lambda p: (int(p[0].endswith("0.jpg")), p[0]))


def synthetic_images(folder: Path, n: int, size: int = 64) -> list[tuple[str, str]]:
    """Write ``n`` random PNGs; labels alternate."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(n):
        path = folder / f"{i // 1000:03d}" / f"img{i:06d}.png"
        path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(path), rng.integers(0, 255, (size, size), dtype=np.uint8))
        pairs.append((str(path), ("normal", "covid")[i % 2]))
    return pairs


def benchmark_config() -> str:
    """A whole resolved ``config.toml`` (the quickstart preset, renamed), as a run holds."""
    from bamnet_core.config.load import load_config
    from bamnet_core.plugins import load_plugins

    return load_config("quickstart", load_plugins().registry,
                       overrides=['run.name="benchmark"']).to_toml()


def make_run(folder: Path, model, spec: PreprocessSpec, train: list[tuple[str, str]],
             val: list[tuple[str, str]]) -> Path:
    """Write a minimal run folder for ``model``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / layout.MODEL)
    (folder / layout.PREPROCESS).write_text(spec.to_json() + "\n")
    (folder / layout.CONFIG).write_text(benchmark_config())
    RunFolder(folder).write_model(layout.METRICS, MetricsFile.model_validate({
        "classes": ["normal", "covid"], "positive": "covid", "threshold": 0.5,
        "splits": {"val": {"images": len(val)}}}))
    with open(folder / layout.SPLITS_CSV, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["split", "path", "label", "patient_id", "source"])
        for split, rows in (("train", train), ("val", val)):
            writer.writerows([split, p, label, p, "bench"] for p, label in rows)
    return folder
