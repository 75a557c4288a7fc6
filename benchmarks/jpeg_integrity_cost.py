"""What the JPEG scan check (:mod:`bamnet_core.imaging.integrity`) adds to decoding one file.

    python benchmarks/jpeg_integrity_cost.py [FOLDER] [--repeat 3]

Decodes every JPEG under FOLDER (default ../shared/data/cxr-public) in this
process, one thread, with the check and without it, and prints milliseconds
per image for each, the difference, and how many files the check refused.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from unittest import mock

from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging import decode

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cxr-public"


def decode_all(datas: list[tuple[Path, bytes]]) -> tuple[float, int]:
    """Seconds to decode every file once, and how many were refused."""
    refused = 0
    start = time.perf_counter()
    for path, data in datas:
        try:
            decode.decode_bytes(path, data)
        except ImageDecodeError:
            refused += 1
    return time.perf_counter() - start, refused


def main() -> None:
    """Measure and print the per-image cost with and without the check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    datas = [(p, p.read_bytes()) for p in files]
    mb = sum(len(d) for _, d in datas) / 1e6
    print(f"{len(datas)} JPEG files, {mb:.1f} MB, under {args.folder}")
    with_check, without = [], []
    for _ in range(args.repeat):
        seconds, refused = decode_all(datas)
        with_check.append(seconds)
        with mock.patch.object(decode, "check_jpeg", lambda path, data: None):
            without.append(decode_all(datas)[0])
    per = 1000 / len(datas)
    print(f"decode with the check:    {min(with_check) * per:.3f} ms/image (best of "
          f"{args.repeat}); refused {refused}")
    print(f"decode without the check: {min(without) * per:.3f} ms/image")
    print(f"added by the check:       {(min(with_check) - min(without)) * per:.3f} ms/image")


if __name__ == "__main__":
    main()
