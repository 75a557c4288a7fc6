"""The prepared accelerator check: bamnet training on JAX or PyTorch, no TensorFlow needed.

Runs on any machine with bamnet, Keras and JAX or PyTorch (a GPU machine
that ships no TensorFlow included), in a few minutes, and prints one table:

- the quickstart (``bamnet run quickstart``) end to end on the backend in use:
  wall seconds, the train and generator stages, validation and test accuracy
  (export is skipped where TensorFlow is not installed, and says so);
- VGG16 at 224x224, every layer trained, in mixed precision (bf16 by
  default): training images/s;
- the DCGAN's steps/s at 64 and 128 px (``benchmarks/gan_speed.py``);
- the TFLOP/s VGG16 training achieved (3x the forward FLOPs, counted from the
  layers by ``bamnet_core.contract.forward_flops``), against the accelerator's
  dense bf16/fp16 peak where it is known.

On a CPU the same script runs with small step counts, so that it is known to
work before a GPU is lent. Not a test.

    KERAS_BACKEND=jax PYTHONPATH=.:plugins python benchmarks/gpu_check.py
    KERAS_BACKEND=torch PYTHONPATH=.:plugins python benchmarks/gpu_check.py --skip-quickstart
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bamnet_core.runs import layout

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: Dense bf16/fp16 tensor peak in TFLOP/s by device name (vendor data sheets, no sparsity).
PEAK_TFLOPS = {"H200": 989.0, "H100 SXM": 989.0, "H100 80GB HBM3": 989.0, "H100 PCIe": 756.0,
               "H100 NVL": 835.0, "H100": 756.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0,
               "A10": 125.0, "V100": 125.0, "T4": 65.0}


def accelerator() -> tuple[str, bool]:
    """The device Keras computes on, in words, and whether it is a GPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        dev = jax.devices()[0]
        return f"{dev.platform}: {getattr(dev, 'device_kind', dev)}", dev.platform == "gpu"
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return f"cuda: {torch.cuda.get_device_name(0)}", True
        return "cpu", False
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return (gpus[0].name, True) if gpus else ("cpu", False)


def peak_tflops(name: str) -> float | None:
    """The known dense half-precision peak of the device named ``name``, if any."""
    for key, value in PEAK_TFLOPS.items():  # the longer names come first
        if key in name:
            return value
    return None


def vgg16_training(*, batch: int, steps: int, precision: str) -> dict:
    """Images/s and TFLOP/s of training all of VGG16 (weights none) at 224x224."""
    import keras

    from bamnet_core.contract import forward_flops
    from bamnet_paper.backbones.vgg16 import VGG16Backbone

    keras.mixed_precision.set_global_policy(precision)
    try:
        model = VGG16Backbone(weights="none", freeze="none").build((224, 224, 3), 2)
        model.compile(optimizer=keras.optimizers.Adam(1e-4),
                      loss="sparse_categorical_crossentropy")
        rng = np.random.default_rng(0)
        x = rng.uniform(-100, 100, (batch * steps, 224, 224, 3)).astype(np.float32)
        y = rng.integers(0, 2, batch * steps)
        model.fit(x[:batch * 2], y[:batch * 2], batch_size=batch, epochs=1, verbose=0)  # compile
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        seconds = time.perf_counter() - start
        flops = 3.0 * forward_flops(model)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    rate = batch * steps / seconds
    return {"images_per_s": rate, "tflops": rate * flops / 1e12, "batch": batch,
            "steps": steps, "precision": precision}


def quickstart() -> dict:
    """``bamnet run quickstart`` in a subprocess: seconds, stage times and accuracies."""
    from bamnet_core.runs.files import MetaFile, MetricsFile
    from bamnet_core.runs.folder import RunFolder

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BAMNET_CACHE_DIR": str(Path(tmp) / "cache")}
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bamnet_core", "run", "quickstart",
                               "--output-dir", str(Path(tmp) / "runs"), "--json"],
                              capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
            return {"status": f"failed: {tail}", "wall_s": wall}
        run = RunFolder(json.loads(done.stdout)["run_dir"])
        meta = run.read_model(layout.META, MetaFile)
        metrics = run.read_model(layout.METRICS, MetricsFile)
        export = meta.stages.get("export")
        return {"status": meta.status, "wall_s": wall,
                "train_s": meta.timings_s.get("train"),
                "generator_s": meta.timings_s.get("generator"),
                "val_accuracy": (metrics.results("val", "classification") or {}).get("accuracy"),
                "test_accuracy": (metrics.results("test", "classification") or {})
                .get("accuracy"),
                "export": "skipped (no TensorFlow)"
                if export is not None and getattr(export, "skipped", None) else layout.ONNX}


def main() -> None:
    """Measure, then print the table (and the rows as JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", default="mixed_bfloat16",
                        choices=["mixed_bfloat16", "mixed_float16", "float32"])
    parser.add_argument("--skip-quickstart", action="store_true")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args()
    import keras
    from gan_speed import measure as gan_measure

    device, gpu = accelerator()
    rows: list[tuple[str, str]] = [("backend", f"{keras.backend.backend()} "
                                               f"(keras {keras.__version__})"),
                                   ("device", device)]
    if not args.skip_quickstart:
        q = quickstart()
        rows.append(("quickstart", f"{q['status']} in {q['wall_s']:.0f} s"
                     + (f" (generator {q['generator_s']:.0f} s, train {q['train_s']:.0f} s); "
                        f"val acc {q['val_accuracy']:.3f}, test acc {q['test_accuracy']:.3f}; "
                        f"export: {q['export']}" if "train_s" in q else "")))
    vgg = vgg16_training(batch=64 if gpu else 4, steps=20 if gpu else 3,
                         precision=args.precision)
    rows.append(("VGG16 224 train", f"{vgg['images_per_s']:.1f} images/s ({vgg['precision']}, "
                                    f"batch {vgg['batch']}, {vgg['steps']} steps)"))
    for size in (64, 128):
        g = gan_measure(size, batch=64 if gpu else 16, steps=50 if gpu else 5, augment=(),
                        mixed=False, save=None)
        rows.append((f"DCGAN {size} px", f"{g['steps_per_s']:.2f} steps/s "
                                         f"(batch {g['batch']}, {g['images_per_s']:.0f} images/s)"))
    peak = peak_tflops(device)
    share = f", {100 * vgg['tflops'] / peak:.1f}% of its {peak:.0f} TFLOP/s peak" if peak else \
        " (peak unknown for this device)"
    rows.append(("VGG16 achieved", f"{vgg['tflops']:.2f} TFLOP/s{share}"))
    width = max(len(name) for name, _ in rows)
    print(f"{'check':<{width}}  result")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if args.json:
        print(json.dumps(dict(rows)))


if __name__ == "__main__":
    main()
