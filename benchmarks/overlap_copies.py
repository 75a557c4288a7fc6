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

Prints one table, and the time per image (thumbnail, and matching against every
image of the data).

    python benchmarks/overlap_copies.py [--data FOLDER] [--copies 200]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_data import add_data_argument, data_folder  # noqa: E402

from bamnet_core.data.copies import find_copies, thumbnail  # noqa: E402
from bamnet_core.imaging.decode import decode_described  # noqa: E402


def _jpeg(gray: np.ndarray, quality: int) -> np.ndarray:
    u8 = np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0


def _resize(gray: np.ndarray, f: float) -> np.ndarray:
    return cv2.resize(gray, None, fx=f, fy=f,
                      interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)


def _pad(gray: np.ndarray, f: float = 0.9) -> np.ndarray:
    small = _resize(gray, f)
    out = np.zeros_like(gray)
    y, x = (gray.shape[0] - small.shape[0]) // 2, (gray.shape[1] - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def _crop(gray: np.ndarray, top: float, bottom: float, left: float, right: float
          ) -> np.ndarray:
    h, w = gray.shape
    return gray[int(h * top):h - int(h * bottom), int(w * left):w - int(w * right)]


def _gain(gray: np.ndarray, g: float, about_mean: bool = False) -> np.ndarray:
    c = float(gray.mean()) if about_mean else 0.0
    return np.clip((gray - c) * g + c, 0, 1)


KINDS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "JPEG quality 60": lambda g: _jpeg(g, 60),
    "JPEG quality 50": lambda g: _jpeg(g, 50),
    "resized to 80%": lambda g: _resize(g, 0.8),
    "resized to 120%": lambda g: _resize(g, 1.2),
    "shrunk to 90%, padded back": _pad,
    "padded 10% (one side white)": lambda g: cv2.copyMakeBorder(
        g, int(g.shape[0] * .1), 0, 0, int(g.shape[1] * .1), cv2.BORDER_CONSTANT, value=1.0),
    "flipped left-right": lambda g: np.ascontiguousarray(g[:, ::-1]),
    "cropped 5% each side": lambda g: _crop(g, .05, .05, .05, .05),
    "cropped 10% each side": lambda g: _crop(g, .1, .1, .1, .1),
    "cropped 10% top and left": lambda g: _crop(g, .1, 0, .1, 0),
    "brightness +20%": lambda g: _gain(g, 1.2),
    "brightness -20%": lambda g: _gain(g, 0.8),
    "contrast +20%": lambda g: _gain(g, 1.2, True),
    "contrast -20%": lambda g: _gain(g, 0.8, True),
    "flip + crop 5% + JPEG 60": lambda g: _jpeg(_crop(g[:, ::-1], .05, .05, .05, .05), 60),
    "resize 90% + brightness +15% + JPEG 50": lambda g: _jpeg(_gain(_resize(g, .9), 1.15), 50),
    "pad + flip": lambda g: _pad(np.ascontiguousarray(g[:, ::-1]), 0.85),
    "crop 10% right/top + contrast +20%": lambda g: _gain(_crop(g, .1, 0, 0, .1), 1.2, True),
}


def _decode(folder: Path, rel: str) -> np.ndarray:
    path = folder / rel
    gray, _ = decode_described(path, path.read_bytes())
    return np.asarray(gray, dtype=np.float32)


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
    found = sum(1 for a, b in known
                if (index[a] in matched and matched[index[a]].reference == index[b])
                or (index[b] in matched and matched[index[b]].reference == index[a]))
    print(f"\nknown near-identical pairs (duplicates_log.csv, both images present): "
          f"{found} / {len(known)}")

    # 3. synthetic copies of real images
    rng = np.random.default_rng(0)
    chosen = sorted(rng.choice(n, min(args.copies, n), replace=False).tolist())
    print(f"\nsynthetic copies of {len(chosen)} images, each looked for among all {n}:")
    print(f"  {'copy kind':42s} found / total   ms per copy")
    for kind, edit in KINDS.items():
        t0 = time.perf_counter()
        queries = [thumbnail(edit(grays[i])) for i in chosen]
        matches = find_copies(queries, thumbs)
        ms = 1000 * (time.perf_counter() - t0) / len(chosen)
        hits = sum(1 for m in matches if m.reference == chosen[m.query])
        wrong = sum(1 for m in matches if m.reference != chosen[m.query]
                    and patient[m.reference] != patient[chosen[m.query]])
        note = f"  ({wrong} matched another patient)" if wrong else ""
        print(f"  {kind:42s} {hits:5d} / {len(chosen):<5d} {ms:8.1f}{note}")


if __name__ == "__main__":
    main()
