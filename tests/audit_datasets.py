"""Crafted datasets with a known audit answer: a leaking property, flipped labels, foreigners."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from fixtures_images import write_png


def blob(seed: int, size: int = 48) -> np.ndarray:
    """A smooth random gray image (blurred noise), alike in distribution for every seed."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(60, 200, (size, size), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 3)


def stripes(seed: int, size: int = 48) -> np.ndarray:
    """Bright horizontal stripes with a random phase: unlike any blob."""
    rng = np.random.default_rng(seed)
    rows = (np.sin(np.arange(size) / 2.0 + rng.uniform(0, 6)) > 0) * 200 + 40
    return np.tile(rows[:, None], (1, size)).astype(np.uint8)


def write_manifest(root: Path, rows: list[tuple[str, str, str]]) -> Path:
    """``path,label,patient_id,source`` rows -> ``root/manifest.csv``."""
    lines = ["path,label,patient_id,source"] + [f"{p},{lab},{pid},site" for p, lab, pid in rows]
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "manifest.csv"


def leaky_dataset(root: Path, n: int = 30, *, leak: bool = True) -> Path:
    """Two classes drawn alike; with ``leak``, every covid image has a black frame."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(2 * n):
        label = "covid" if i % 2 else "normal"
        image = blob(i)
        if leak and label == "covid":
            image = cv2.copyMakeBorder(image[4:-4, 4:-4], 4, 4, 4, 4, cv2.BORDER_CONSTANT, 0)
        write_png(root / f"img{i:03d}.png", image)
        rows.append((f"img{i:03d}.png", label, f"p{i}"))
    return write_manifest(root, rows)


def flipped_dataset(root: Path, n: int = 24, flipped: tuple[int, ...] = (3, 10, 17)) -> Path:
    """Blobs are 'normal', stripes 'covid'; the images at ``flipped`` carry the other label."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(2 * n):
        striped = i % 2 == 1
        write_png(root / f"img{i:03d}.png", stripes(i) if striped else blob(i))
        label = "covid" if striped else "normal"
        if i in flipped:
            label = "normal" if striped else "covid"
        rows.append((f"img{i:03d}.png", label, f"p{i}"))
    return write_manifest(root, rows)


FOREIGN = {"foreign-text.png", "foreign-board.png"}


def _foreign_images(root: Path) -> list[tuple[str, str, str]]:
    """A text page (labelled covid) and a checkerboard (normal) in ``root``; their rows."""
    page = np.full((48, 48), 255, np.uint8)
    for y in range(8, 48, 8):
        cv2.putText(page, "figure", (2, y), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 0, 1)
    write_png(root / "foreign-text.png", page)
    board = ((np.indices((48, 48)).sum(axis=0) // 6) % 2 * 255).astype(np.uint8)
    write_png(root / "foreign-board.png", board)
    return [("foreign-text.png", "covid", "f1"), ("foreign-board.png", "normal", "f2")]


def foreign_dataset(root: Path, n: int = 24) -> tuple[Path, set[str]]:
    """Blob images in two classes, plus two foreign images (a text page, a checkerboard)."""
    root.mkdir(parents=True, exist_ok=True)
    rows = [(f"img{i:03d}.png", "covid" if i % 2 else "normal", f"p{i}") for i in range(2 * n)]
    for i in range(2 * n):
        write_png(root / f"img{i:03d}.png", blob(i))
    rows += _foreign_images(root)
    return write_manifest(root, rows), FOREIGN


def flipped_and_foreign_dataset(root: Path, n: int = 24) -> tuple[Path, set[str], set[str]]:
    """:func:`flipped_dataset` plus a text page and a checkerboard, one in each class.

    :returns: the manifest, the flipped images' names and the foreign images' names.
    """
    manifest = flipped_dataset(root, n)
    with manifest.open("a", encoding="utf-8") as fh:
        fh.writelines(f"{p},{label},{pid},site\n" for p, label, pid in _foreign_images(root))
    return manifest, {"img003.png", "img010.png", "img017.png"}, FOREIGN
