"""Images per second for decode + resize to 224x224, cold (decoding) and cached.

    python benchmarks/decode_throughput.py [FOLDER] [--workers N] [--size 224]

FOLDER defaults to $BAMNET_DATA, else ../shared/data/cxr-public relative to the repository. The
cold pass uses a fresh temporary cache, so it decodes every file; the cached
pass reads the same entries back. Nothing is written outside the temp folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bamnet_core._util.threads import default_workers
from bamnet_core.contract import Sample
from bamnet_core.data.image_cache import ImageCache
from bamnet_core.data.loading import load_samples
from bamnet_core.imaging.formats import IMAGE_SUFFIXES
from bamnet_core.imaging.preprocess import PreprocessSpec

sys.path.insert(0, str(Path(__file__).parent))
from bench_data import data_folder  # noqa: E402


def main() -> None:
    """Measure and print cold and cached throughput."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=None,
                        help="data folder (default: $BAMNET_DATA or ../shared/data/cxr-public)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    args.folder = data_folder(args.folder)
    files = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SystemExit(f"no images under {args.folder}")
    samples = [Sample(path=str(p), label="x", patient_id=str(p), source="bench") for p in files]
    spec = PreprocessSpec(size=args.size, channels=3, scaling="vgg16")
    with tempfile.TemporaryDirectory() as tmp:
        cache = ImageCache(Path(tmp))
        for name in ("cold", "cached"):
            start = time.perf_counter()
            loaded = load_samples(samples, spec, workers=args.workers, cache=cache)
            seconds = time.perf_counter() - start
            print(f"{name:>6}: {len(loaded.samples)} images ({len(loaded.errors)} failed) in "
                  f"{seconds:.2f} s = {len(samples) / seconds:.1f} images/s "
                  f"[{args.workers} threads, {args.size}x{args.size}]")
        for workers in (1, args.workers):
            start = time.perf_counter()
            load_samples(samples, spec, workers=workers, cache=ImageCache(enabled=False))
            seconds = time.perf_counter() - start
            print(f"no cache, {workers} thread(s): {len(samples) / seconds:.1f} images/s")


if __name__ == "__main__":
    main()
