"""Does the overlap check find copies of a run's images, and only copies? On real chest X-rays.

Three measurements on the data folder (default ``../shared/data/cxr-public``):

1. **Known pairs**: the near-identical pairs of ``duplicates_log.csv`` whose two
   images are both still in the data (the log's other pairs had one image dropped):
   is one image found as a copy of the other?
2. **False matches**: every image against every image of another patient (the
   manifest's ``patient_id``, merged ids included), as ``bamnet evaluate`` would
   compare them: how many pairs of different patients are called copies.
3. **Synthetic copies**: ``--copies N`` images (default 200), each edited in each
   way the check promises to survive (JPEG at quality 50, resizing 80% and 120%,
   padding, cropping up to 10% a side, a left-right flip, brightness and contrast
   +-20%, and combinations), looked for among all images: found / total per kind.
   The copies exist in memory only; nothing is written.

Prints the counts, the pairs behind them, and the time per image (thumbnail, and
matching against every image of the data). The copy kinds are
:data:`bamnet_core.testing.copy_edits.COPY_EDITS`.

    python benchmarks/overlap_copies.py [--data FOLDER] [--copies 200]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_data import add_data_argument, data_folder  # noqa: E402

from bamnet_core.data.copies import find_copies, thumbnail  # noqa: E402
from bamnet_core.imaging.decode import decode_described  # noqa: E402
from bamnet_core.testing.copy_edits import COPY_EDITS  # noqa: E402


def _decode(folder: Path, rel: str) -> np.ndarray:
    path = folder / rel
    gray, _ = decode_described(path, path.read_bytes())
    return np.asarray(gray, dtype=np.float32)


def _pixels(gray: np.ndarray) -> np.ndarray:
    """Decoded unit grey as the 8-bit pixels a copy is made from."""
    return np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> None:
    """Print the table: copy kind -> found / total; false matches; time per image."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_argument(parser)
    parser.add_argument("--copies", type=int, default=200,
                        help="images to make synthetic copies of (default 200)")
    args = parser.parse_args(argv)
    folder = data_folder(args.data)
    rows = list(csv.DictReader((folder / "manifest.csv").open(encoding="utf-8")))
    paths = [r["path"] for r in rows]
    patient = [r["patient_id"] for r in rows]

    start = time.perf_counter()
    grays = [_decode(folder, p) for p in paths]
    decoded = time.perf_counter()
    thumbs = [thumbnail(g) for g in grays]
    thumbed = time.perf_counter()
    n = len(thumbs)
    print(f"{n} images from {folder}: decode {1000 * (decoded - start) / n:.1f} ms, "
          f"thumbnail {1000 * (thumbed - decoded) / n:.1f} ms per image")

    # 2. false matches: each image against all others (itself left out by index)
    t0 = time.perf_counter()
    false_pairs = []
    same_patient = 0
    matched = {m.query: m for m in find_copies(thumbs)}  # each against all the others
    for i, m in matched.items():
        j = m.reference
        if patient[i] == patient[j]:
            same_patient += 1
        else:
            false_pairs.append((paths[i], paths[j], m.correlation))
    per_image = 1000 * (time.perf_counter() - t0) / n
    print(f"\nall {n} images, each against the other {n - 1} ({n * (n - 1) // 2} pairs):")
    print(f"  matched to an image of another patient: {len(false_pairs)} of {n} images "
          f"({100 * len(false_pairs) / n:.2f}%; of the pairs: "
          f"{len(false_pairs) / (n * (n - 1) / 2):.1e})")
    for a, b, c in sorted(false_pairs, key=lambda p: -p[2]):
        print(f"    {c:.3f}  {a}  ~  {b}")
    print(f"  matched to another image of the same patient: {same_patient}")
    print(f"  matching time: {per_image:.1f} ms per image against {n - 1}")

    # 1. known near-identical pairs of the duplicates log
    log = folder / "duplicates_log.csv"
    index = {p: i for i, p in enumerate(paths)}
    known = [(r["a"], r["b"]) for r in csv.DictReader(log.open(encoding="utf-8"))
             if r["a"] in index and r["b"] in index] if log.is_file() else []
    def paired(a: str, b: str) -> bool:
        m = matched.get(index[a])
        return m is not None and m.reference == index[b]

    missed = [(a, b) for a, b in known if not (paired(a, b) or paired(b, a))]
    print(f"\nknown near-identical pairs (duplicates_log.csv, both images present): "
          f"{len(known) - len(missed)} / {len(known)}")
    for a, b in missed:
        print(f"    missed: {a}  ~  {b}")

    # 3. synthetic copies of real images
    rng = np.random.default_rng(0)
    chosen = sorted(rng.choice(n, min(args.copies, n), replace=False).tolist())
    print(f"\nsynthetic copies of {len(chosen)} images, each looked for among all {n}:")
    print(f"  {'copy kind':42s} found / total   ms per copy")
    for kind, edit in COPY_EDITS.items():
        t0 = time.perf_counter()
        queries = [thumbnail(edit(_pixels(grays[i])).astype(np.float32) / 255.0)
                   for i in chosen]
        matches = find_copies(queries, thumbs)
        ms = 1000 * (time.perf_counter() - t0) / len(chosen)
        hits = sum(1 for m in matches if m.reference == chosen[m.query])
        wrong = sum(1 for m in matches if m.reference != chosen[m.query]
                    and patient[m.reference] != patient[chosen[m.query]])
        note = f"  ({wrong} matched another patient)" if wrong else ""
        print(f"  {kind:42s} {hits:5d} / {len(chosen):<5d} {ms:8.1f}{note}")


if __name__ == "__main__":
    main()
