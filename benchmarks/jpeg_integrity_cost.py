"""What the JPEG scan check (:mod:`bamnet_core.imaging.integrity`) adds to decoding one file.

    python benchmarks/jpeg_integrity_cost.py [FOLDER] [--repeat 3]

Decodes every JPEG under FOLDER (default ../shared/data/cxr-public) in this
process, one thread, three ways: as bamnet does (one strict libjpeg-turbo decode
whose pixels are used), as before (a 1/8-scale strict decode as a check, then
OpenCV's decode), and OpenCV alone with no check. Prints milliseconds per image
for each (best of ``--repeat``) and how many files were refused.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from unittest import mock

from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging import decode, integrity

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
    ways = {"one strict decode (bamnet)": None,
            "check, then OpenCV": lambda path, data: integrity.check_jpeg(path, data),
            "OpenCV alone, no check": lambda path, data: None}
    best: dict[str, float] = {}
    refused: dict[str, int] = {}
    for _ in range(args.repeat):  # interleaved, so load changes hit every way alike
        for name, replacement in ways.items():
            with mock.patch.object(decode, "decode_jpeg", replacement or decode.decode_jpeg):
                seconds, refused[name] = decode_all(datas)
            best[name] = min(best.get(name, seconds), seconds)
    per = 1000 / len(datas)
    for name, seconds in best.items():
        print(f"{name:<28} {seconds * per:.3f} ms/image (best of {args.repeat}); "
              f"refused {refused[name]}")


if __name__ == "__main__":
    main()
