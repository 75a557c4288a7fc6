"""Procedural chest X-ray phantoms: lung fields, ribs, heart shadow, noise.

The positive pattern is bilateral, peripheral, lower-zone ground-glass
opacity, the typical COVID-19 pneumonia appearance. Everything is drawn from a
seed, so the same seed gives the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Anatomy:
    """One patient's body: kept fixed across that patient's images."""

    body_axes: tuple[float, float]
    lung_axes: tuple[float, float]
    lung_gap: float
    heart_axes: tuple[float, float]
    rib_spacing: float
    contrast: float
    opacities: tuple[tuple[float, float, float, float], ...]  # (side, y, sigma, amplitude)


def random_anatomy(rng: np.random.Generator, *, positive: bool, opacity: float) -> Anatomy:
    """Draw a patient's anatomy, with opacities when ``positive``."""
    blobs: list[tuple[float, float, float, float]] = []
    if positive:
        for side in (-1.0, 1.0):  # bilateral
            for _ in range(int(rng.integers(2, 5))):
                blobs.append((side, float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.04, 0.08)),
                              float(rng.uniform(0.12, 0.25) * opacity)))
    return Anatomy(
        body_axes=(float(rng.uniform(0.38, 0.46)), float(rng.uniform(0.44, 0.52))),
        lung_axes=(float(rng.uniform(0.12, 0.16)), float(rng.uniform(0.26, 0.32))),
        lung_gap=float(rng.uniform(0.15, 0.19)),
        heart_axes=(float(rng.uniform(0.10, 0.15)), float(rng.uniform(0.09, 0.13))),
        rib_spacing=float(rng.uniform(0.06, 0.075)),
        contrast=float(rng.uniform(0.8, 1.2)),
        opacities=tuple(blobs),
    )


def _ellipse(canvas: np.ndarray, center: tuple[float, float], axes: tuple[float, float],
             value: float, size: int) -> None:
    c = (int(center[0] * size), int(center[1] * size))
    a = (max(1, int(axes[0] * size)), max(1, int(axes[1] * size)))
    cv2.ellipse(canvas, c, a, 0, 0, 360, value, -1, lineType=cv2.LINE_AA)


def draw(anatomy: Anatomy, rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """Render one image of a patient as uint8 grayscale, ``size`` x ``size``."""
    img = np.full((size, size), 0.05, dtype=np.float32)
    _ellipse(img, (0.5, 0.56), anatomy.body_axes, 0.5, size)
    lungs = np.zeros_like(img)
    centers = []
    for side in (-1, 1):
        center = (0.5 + side * anatomy.lung_gap, 0.5)
        centers.append(center)
        _ellipse(lungs, center, anatomy.lung_axes, 1.0, size)
    lungs = cv2.GaussianBlur(lungs, (0, 0), size * 0.01)
    img = img * (1 - 0.7 * lungs)
    spine = np.zeros_like(img)
    cv2.rectangle(spine, (int(0.46 * size), 0), (int(0.54 * size), size), 0.35, -1)
    img += cv2.GaussianBlur(spine, (0, 0), size * 0.01)
    heart = np.zeros_like(img)
    _ellipse(heart, (0.56, 0.64), anatomy.heart_axes, 0.4, size)
    img += cv2.GaussianBlur(heart, (0, 0), size * 0.015)
    ribs = np.zeros_like(img)
    y = 0.24
    while y < 0.85:
        for side in (-1, 1):
            c = (int((0.5 + side * 0.05) * size), int(y * size))
            a = (int(0.34 * size), int(0.09 * size))
            start, end = (180, 270) if side < 0 else (270, 360)
            cv2.ellipse(ribs, c, a, 0, start, end, 0.12, max(1, size // 90), cv2.LINE_AA)
        y += anatomy.rib_spacing
    img += cv2.GaussianBlur(ribs, (0, 0), 0.8) * (lungs > 0.05)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    ggo = np.zeros_like(img)
    for side, rel_y, sigma, amp in anatomy.opacities:
        lx, ly = centers[0 if side < 0 else 1]
        ax, ay = anatomy.lung_axes
        bx = lx + side * ax * rng.uniform(0.45, 0.8)  # peripheral
        by = ly - ay + 2 * ay * rel_y  # mostly lower zones
        ggo += amp * np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * sigma**2))
    img += ggo * lungs
    img = (img - 0.3) * anatomy.contrast + 0.3
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    img += rng.normal(0.0, 0.02, img.shape).astype(np.float32)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def jitter(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small rotation, shift and exposure change: another image of the same patient."""
    size = image.shape[0]
    m = cv2.getRotationMatrix2D((size / 2, size / 2), float(rng.uniform(-4, 4)), 1.0)
    m[:, 2] += rng.uniform(-0.02, 0.02, 2) * size
    moved = cv2.warpAffine(image, m, (size, size), borderMode=cv2.BORDER_REFLECT)
    gain = float(rng.uniform(0.9, 1.1))
    return np.clip(moved.astype(np.float32) * gain, 0, 255).astype(np.uint8)
