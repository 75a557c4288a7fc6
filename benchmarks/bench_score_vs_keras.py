"""Images/s of ``bamnet score`` (fp32 and int8 ONNX) vs Keras ``predict``, decoding included.

VGG16 (keras.applications, weights=None) + the paper's pyimagesearch head at
224x224, on the same real chest X-rays, in the same run. Run with
``PYTHONPATH=.:plugins python benchmarks/bench_score_vs_keras.py [N_IMAGES [KEEP_DIR]]``
(KEEP_DIR keeps the fp32 and int8 models, e.g. for ``bench_score_ray.py``).
Random weights make accuracy meaningless here; the label agreement of int8
with fp32 is printed instead (export-report.json has the rest).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from fake_run import make_run, real_images  # noqa: E402

from bamnet_core.contract import Sample  # noqa: E402
from bamnet_core.data.loading import load_samples  # noqa: E402
from bamnet_core.experiment.export_stage import carried_facts  # noqa: E402
from bamnet_core.export.onnx_export import export_onnx  # noqa: E402
from bamnet_core.imaging.preprocess import PreprocessSpec  # noqa: E402
from bamnet_core.runs import layout  # noqa: E402
from bamnet_core.train.backend import import_keras  # noqa: E402


def vgg16_paper_head(keras):
    """VGG16 with random weights and the pyimagesearch head (2 classes, softmax)."""
    keras.utils.set_random_seed(0)
    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(224, 224, 3))
    x = keras.layers.AveragePooling2D(4, name="head_pool")(base.output)
    x = keras.layers.Flatten(name="head_flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="head_dense")(x)
    x = keras.layers.Dropout(0.5, name="head_dropout")(x)
    out = keras.layers.Dense(2, activation="softmax", name="predictions")(x)
    return keras.Model(base.input, out, name="vgg16_paper")


def score_cli(model: Path, files: list[str], out: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bamnet_core", "score", str(model), *files,
                           "-o", str(out), "--json", "--batch-size", "16"],
                          capture_output=True, text=True, env=os.environ)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return wall, json.loads(proc.stdout)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    pairs = real_images(per_class=max(n, 48))
    files = [p for p, _ in pairs[:n]]
    keras = import_keras()
    spec = PreprocessSpec(size=224, channels=3, scaling="vgg16")
    with tempfile.TemporaryDirectory(prefix="bamnet-bench-") as tmp:
        run = make_run(Path(tmp) / "run", vgg16_paper_head(keras), spec,
                       train=pairs[-48:], val=pairs[n:n + 32] or pairs[:32])
        t = time.perf_counter()
        # random weights: the gate may refuse int8
        result = export_onnx(run, carried=carried_facts(run), int8=True, parity_images=32,
                             calibration_images=48, allow_degraded=True)
        print(f"export (fp32 + parity + int8 calibration): {time.perf_counter() - t:.1f} s")
        report = result.report["models"]
        print(f"export report: fp32 inference {report['fp32']['inference_images_per_s']} img/s, "
              f"int8 {report['int8']['inference_images_per_s']} img/s "
              f"(x{report['int8']['speed_ratio_vs_fp32']}), int8 max|diff| vs Keras "
              f"{report['int8']['parity_vs_keras']['max_abs_diff']:.4f}, label changes "
              f"{report['int8']['parity_vs_keras']['mismatched_labels']}"
              f"/{report['int8']['parity_vs_keras']['images']}")
        model = keras.saving.load_model(run / layout.MODEL, compile=False)
        samples = [Sample(path=p, label="normal", patient_id=p, source="b") for p in files]
        model.predict(np.zeros((2, 224, 224, 3), np.float32), verbose=0)  # warm-up
        t = time.perf_counter()
        loaded = load_samples(samples, spec)
        keras_probs = model.predict(loaded.x, batch_size=16, verbose=0)
        keras_s = time.perf_counter() - t
        print(f"keras predict (decode + predict, warm, in-process): {n / keras_s:.2f} img/s "
              f"({keras_s:.1f} s for {n})")
        results = {}
        for name, path in (("fp32", result.model_path), ("int8", result.variants["int8"])):
            wall, summary = score_cli(path, files, Path(tmp) / f"{name}.csv")
            results[name] = Path(tmp) / f"{name}.csv"
            print(f"bamnet score {name}: {summary['images_per_s']:.2f} img/s in-run "
                  f"({n / wall:.2f} img/s wall incl. process start {wall:.1f} s) "
                  f"-> x{summary['images_per_s'] * keras_s / n:.2f} vs keras")
        rows = {k: list(csv.DictReader(open(v))) for k, v in results.items()}
        agree = np.mean([a["label"] == b["label"] for a, b in
                         zip(rows["fp32"], rows["int8"], strict=True)])
        fp32_probs = np.array([[float(r["prob_normal"]), float(r["prob_covid"])]
                               for r in rows["fp32"]])
        print(f"fp32 ONNX vs Keras max|diff| on the benchmark files: "
              f"{np.abs(fp32_probs - keras_probs).max():.2e}")
        print(f"int8 vs fp32 label agreement: {100 * agree:.1f}% of {n}")
        if len(sys.argv) > 2:
            keep = Path(sys.argv[2])
            keep.mkdir(parents=True, exist_ok=True)
            for name, path in (("fp32", result.model_path), ("int8", result.variants["int8"])):
                shutil.copy(path, keep / f"vgg16.{name}.onnx")
            print(f"models kept in {keep}")


if __name__ == "__main__":
    main()
