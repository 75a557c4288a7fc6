"""Peak RSS of `bamnet export --onnx --int8` (VGG16, 224x224) for 50, 150 and 300
calibration images: strided calibration keeps it flat.

Builds one run folder around VGG16 (keras.applications, weights=None, the
pyimagesearch head) whose splits.csv lists real chest X-rays (read in place,
never copied): 300 training images for calibration and 64 validation images
for the gates. Each export runs in a fresh process, as a user runs it; its
peak resident memory comes from the kernel (``os.wait4`` rusage). Random
weights make the int8 gate's verdict meaningless here, so ``--allow-degraded``
writes the variant whatever it says. Not a test.

    PYTHONPATH=.:plugins python benchmarks/export_memory.py [--counts 50 150 300]
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

sys.path.insert(0, str(Path(__file__).parent))
from bench_score_vs_keras import vgg16_paper_head  # noqa: E402
from fake_run import make_run, real_images  # noqa: E402

from bamnet_core.imaging.preprocess import PreprocessSpec  # noqa: E402
from bamnet_core.train.backend import import_keras  # noqa: E402


def export_peak(run: Path, calibration: int, out: Path) -> tuple[float, float, dict]:
    """Peak RSS (GB) and wall seconds of one export in a child process, and its report."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bamnet_core", "export", str(run), "--onnx",
                             "--int8", "--calibration-images", str(calibration),
                             "--allow-degraded", "--json", "-o", str(out / "model.onnx")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ)
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(stderr.decode()[-2000:])
    return usage.ru_maxrss / 1024**2, seconds, json.loads(stdout)


def main() -> None:
    """Build the run, export it once per calibration count, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[50, 150, 300])
    args = parser.parse_args()
    pairs = real_images(per_class=max(args.counts) // 2 + 32)
    by_label: dict[str, list[tuple[str, str]]] = {}
    for path, label in pairs:
        by_label.setdefault(label, []).append((path, label))
    val = [p for rows in by_label.values() for p in rows[:32]]
    train = [p for rows in by_label.values() for p in rows[32:]][:max(args.counts)]
    keras = import_keras()
    spec = PreprocessSpec(size=224, channels=3, scaling="vgg16")
    with tempfile.TemporaryDirectory(prefix="bamnet-exportmem-") as tmp:
        run = make_run(Path(tmp) / "run", vgg16_paper_head(keras), spec, train=train, val=val)
        print(f"VGG16 224x224, {len(val)} validation images, training images for calibration "
              f"up to {len(train)}", flush=True)
        for count in args.counts:
            out = Path(tmp) / f"out-{count}"
            out.mkdir()
            peak, seconds, report = export_peak(run, count, out)
            int8 = report["models"]["int8"]
            print(f"calibration images {int8['settings']['calibration_images']:4d}: "
                  f"peak RSS {peak:.2f} GB, {seconds:.0f} s, int8 gate "
                  f"{'passed' if int8['gate']['passed'] else 'failed'}", flush=True)


if __name__ == "__main__":
    main()
