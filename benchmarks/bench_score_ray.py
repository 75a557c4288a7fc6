"""Images/s of ``bamnet score --engine ray`` (one local worker) vs local ``bamnet score``.

Both score the same real chest X-rays with the same model, each in its own
process, back to back; wall time includes process start (and, for Ray,
starting the local instance). Run with
``PYTHONPATH=.:plugins python benchmarks/bench_score_ray.py MODEL.onnx [N_IMAGES]``
(``bench_score_vs_keras.py 64 DIR`` leaves the VGG16 models in DIR).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fake_run import real_images  # noqa: E402


def score(model: str, files: Path, out: Path, *extra: str) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bamnet_core", "score", model, str(files),
                           "-o", str(out), "--json", "--batch-size", "16", *extra],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        raise SystemExit(proc.stderr)
    return wall, json.loads(proc.stdout)


def main() -> None:
    model = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    files = [p for p, _ in real_images(per_class=n)][:n]
    with tempfile.TemporaryDirectory(prefix="bamnet-bench-") as tmp:
        listing = Path(tmp) / "images"
        listing.mkdir()
        for i, f in enumerate(files):  # symlinks: rows hold the resolved, real paths
            (listing / f"{i:05d}{Path(f).suffix}").symlink_to(f)
        results = {}
        for name, extra in (("local", ()), ("ray", ("--engine", "ray", "--workers", "1"))):
            wall, summary = score(model, listing, Path(tmp) / f"{name}.csv", *extra)
            results[name] = wall
            print(f"{name}: {summary['scored']} scored, {summary['failed']} failed, "
                  f"{len(files) / wall:.2f} img/s wall ({wall:.1f} s), "
                  f"{summary['images_per_s']:.2f} img/s in-run, on {summary['provider']}")
        rows = {k: {r["path"]: r for r in csv.DictReader(open(Path(tmp) / f"{k}.csv"))}
                for k in results}
        same = sum(rows["local"][p] == r for p, r in rows["ray"].items())
        print(f"ray wall time / local wall time: {results['ray'] / results['local']:.3f} "
              f"(target <= 1.15); rows identical: {same}/{len(rows['local'])}")


if __name__ == "__main__":
    main()
