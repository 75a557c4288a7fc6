"""Speed of the audit's second half on real images, with cold caches.

    python benchmarks/inspect_speed.py [MANIFEST] [--repeat 3]

1. Property overhead: cold decoding of every file (``decode_bytes``) against
   cold decoding plus the property pass (``decode_described``), interleaved
   ``--repeat`` times on one thread; the target is at most +10%.
2. ``bamnet data inspect --deep`` in a fresh process with an empty
   ``BAMNET_CACHE_DIR`` (so every image is decoded and every feature computed),
   then once more with the caches warm. The target is at most 60 s cold on 2 cores.

MANIFEST defaults to ../shared/data/cxr-public/manifest.csv beside the
repository. Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bamnet_core.imaging.decode import decode_bytes, decode_described, read_image_bytes

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cxr-public" / \
    "manifest.csv"


def property_overhead(files: list[Path], repeat: int) -> None:
    """Print decode-only and decode+properties seconds, best of ``repeat``."""
    blobs = [(p, read_image_bytes(p)) for p in files]
    plain, described = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        for path, data in blobs:
            decode_bytes(path, data)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        for path, data in blobs:
            decode_described(path, data)
        described.append(time.perf_counter() - start)
    a, b = min(plain), min(described)
    print(f"decode only        {a:7.2f} s  ({len(files) / a:6.1f} images/s)")
    print(f"decode+properties  {b:7.2f} s  ({len(files) / b:6.1f} images/s)")
    print(f"property overhead  {100 * (b - a) / a:+7.1f} %  (target <= +10%)")


def deep_inspect(manifest: Path) -> None:
    """Time ``bamnet data inspect --deep --json`` cold, then warm, in fresh processes."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "BAMNET_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "bamnet_core", "data", "inspect",
                                   str(manifest), "--deep", "--json"], env=env,
                                  capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - start
            if done.returncode:
                raise SystemExit(done.stderr[-2000:])
            print(f"inspect --deep {label:4}  {seconds:7.1f} s wall (target <= 60 s cold)")


def main() -> None:
    """Run both measurements and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with args.manifest.open(newline="", encoding="utf-8") as fh:
        files = [args.manifest.parent / row["path"] for row in csv.DictReader(fh)]
    print(f"{len(files)} images, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    property_overhead(files, args.repeat)
    deep_inspect(args.manifest)


if __name__ == "__main__":
    main()
