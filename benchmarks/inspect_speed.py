"""Speed of the audit's second half on real images, with cold caches.

    python benchmarks/inspect_speed.py [MANIFEST] [--repeat 6] [--no-deep]

1. Property overhead: cold decoding of every file (``decode_bytes``) against
   cold decoding plus the property pass (``decode_described``) with the registered
   default lung-field estimator finding each image's lung fields (the fields the
   pixel properties are read outside of), interleaved ``--repeat`` times on one
   thread; the estimator's own share is printed too (per image, in ms).
2. ``bamnet data inspect --deep`` in a fresh process with an empty
   ``BAMNET_CACHE_DIR`` (so every image is decoded and every feature computed),
   then once more with the caches warm. The target is at most 60 s cold on 2 cores.

MANIFEST defaults to manifest.csv in $BAMNET_DATA, else in ../shared/data/cxr-public
beside the repository. Nothing is written outside a temporary folder.
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

from bamnet_core.data.lung_fields import default_lung_fields
from bamnet_core.imaging.decode import decode_bytes, decode_described, read_image_bytes
from bamnet_core.plugins import load_plugins

sys.path.insert(0, str(Path(__file__).parent))
from bench_data import data_folder  # noqa: E402


def property_overhead(files: list[Path], repeat: int) -> None:
    """Print decode-only and decode+properties seconds, best of ``repeat``.

    The two passes alternate which goes first, so that neither always runs
    on a warmer allocator and CPU.
    """
    blobs = [(p, read_image_bytes(p)) for p in files]

    def timed(decode) -> float:
        start = time.perf_counter()
        for path, data in blobs:
            decode(path, data)
        return time.perf_counter() - start

    lungs = default_lungs()
    passes = {"decode only": decode_bytes,
              "decode+properties, no lung fields":
                  lambda p, d: decode_described(p, d, lungs=None),
              f"decode+properties ({lungs.name})":
                  lambda p, d: decode_described(p, d, lungs=lungs)}
    seconds: dict[str, list[float]] = {name: [] for name in passes}
    for turn in range(repeat):
        names = list(passes) if turn % 2 == 0 else list(passes)[::-1]
        for name in names:
            seconds[name].append(timed(passes[name]))
    best = {name: min(found) for name, found in seconds.items()}
    a = best["decode only"]
    for name, b in best.items():
        print(f"{name:40} {b:7.2f} s  ({len(files) / b:6.1f} images/s, "
              f"{100 * (b - a) / a:+6.1f} %)")
    fields = best[f"decode+properties ({lungs.name})"] - best["decode+properties, no lung fields"]
    print(f"{'lung fields, per image':40} {1000 * fields / len(files):7.2f} ms")


def default_lungs():
    """The registered default lung-field source, as ``bamnet data inspect`` uses it."""
    return default_lung_fields(load_plugins().registry).source()


def fingerprint_overhead(files: list[Path], repeat: int) -> None:
    """The same on the pipeline's own cold pass: read, hash, decode, dHash, cache.

    ``fingerprint_file`` with an empty cache, against the same pass with the
    property step switched off (no describe; the cache entry holds the dHash
    alone). One thread.
    """
    from bamnet_core.data import fingerprints

    lungs = default_lungs()

    def timed(with_properties: bool) -> float:
        saved = fingerprints.decode_described
        if not with_properties:  # the entry then holds the dHash alone
            fingerprints.decode_described = lambda p, d, lungs=None, **k: (decode_bytes(p, d, **k),
                                                                           {})
        try:
            with tempfile.TemporaryDirectory() as cache:
                os.environ["BAMNET_CACHE_DIR"] = cache
                start = time.perf_counter()
                for path in files:
                    fingerprints.fingerprint_file(path, lungs=lungs)
                return time.perf_counter() - start
        finally:
            fingerprints.decode_described = saved
            os.environ.pop("BAMNET_CACHE_DIR", None)

    plain, described = [], []
    for turn in range(repeat):
        order = (False, True) if turn % 2 == 0 else (True, False)
        for flag in order:
            (described if flag else plain).append(timed(flag))
    a, b = min(plain), min(described)
    print(f"cold fingerprint pass, no properties   {a:7.2f} s")
    print(f"cold fingerprint pass, with properties {b:7.2f} s")
    print(f"property overhead in the pipeline      {100 * (b - a) / a:+7.1f} %")


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
    parser.add_argument("manifest", nargs="?", default=None,
                        help="manifest.csv or its folder (default: $BAMNET_DATA or "
                             "../shared/data/cxr-public)")
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--no-deep", action="store_true", help="only the property overhead")
    parser.add_argument("--limit", type=int, default=None,
                        help="time only the first N images of the manifest")
    args = parser.parse_args()
    args.manifest = data_folder(args.manifest) / "manifest.csv"
    with args.manifest.open(newline="", encoding="utf-8") as fh:
        files = [args.manifest.parent / row["path"] for row in csv.DictReader(fh)]
    files = files[:args.limit] if args.limit else files
    print(f"{len(files)} images, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    property_overhead(files, args.repeat)
    fingerprint_overhead(files, max(2, args.repeat // 2))
    if not args.no_deep:
        deep_inspect(args.manifest)


if __name__ == "__main__":
    main()
