"""``anatomical``: each lung is a fixed outline, placed in a box read from the thorax.

The outline of each lung is written below from anatomical proportions (a rounded
apex, the rib cage's curve, the diaphragm's dome lower at the costophrenic angle,
the heart's notch in the left lung); nothing of it is learnt from images. An
image only places the two boxes: the mediastinum (the bright column between the
lungs), the rib cage's inner edge on either side, the apices and the diaphragm.
Each edge is read from profiles taken as a *low percentile* across the lung, so
that a bright opacity covering part of a lung does not move the edge: the darkest
part of each row or column still is aerated lung. The fitted boxes are then held
to plausible proportions, so a lung that is white throughout keeps a lung-sized
field instead of vanishing.
"""

from __future__ import annotations

import cv2
import numpy as np

GRID = 128  # the boxes are read on a GRID x GRID copy of the image

# Each outline: (u, v) points, u from the medial edge (0) to the lateral (1), v from
# the apex (0) to the costophrenic angle (1). Written for the lung on the image's
# left (the patient's right); the other is mirrored, with the heart's notch.
RIGHT_LUNG = ((0.40, 0.00), (0.62, 0.03), (0.80, 0.12), (0.92, 0.28), (0.98, 0.48),
              (1.00, 0.70), (1.00, 0.92), (0.96, 1.00), (0.78, 0.94), (0.50, 0.88),
              (0.22, 0.85), (0.02, 0.84), (0.00, 0.60), (0.02, 0.30), (0.12, 0.12),
              (0.25, 0.03))
LEFT_LUNG = ((0.40, 0.00), (0.62, 0.03), (0.80, 0.12), (0.92, 0.28), (0.98, 0.48),
             (1.00, 0.70), (1.00, 0.92), (0.96, 1.00), (0.80, 0.97), (0.60, 0.93),
             (0.42, 0.88), (0.24, 0.74), (0.10, 0.55), (0.02, 0.38), (0.04, 0.20),
             (0.14, 0.08), (0.25, 0.03))


class AnatomicalLungFields:
    """Lung fields from a two-lung outline fitted to the mediastinum, rib cage and diaphragm.

    Never reads a label; an opacity inside a lung leaves the field (nearly) as it is.
    """

    def estimate(self, image: np.ndarray) -> np.ndarray:
        """The lung fields of one ``(h, w)`` greyscale image in [0, 1], as bool ``(h, w)``."""
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 2 or min(image.shape) < 2:
            raise ValueError(f"expected one greyscale image (h, w), got shape {image.shape}")
        boxes = fit_boxes(image)
        return draw_fields(boxes, image.shape)


def _normalised(image: np.ndarray) -> np.ndarray:
    """The image on the grid, smoothed, spread to [0, 1] between robust percentiles."""
    small = cv2.resize(image, (GRID, GRID), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), GRID * 0.015)
    lo, hi = np.percentile(small, (2, 98))
    if hi - lo < 1e-6:
        return np.zeros_like(small)
    return np.clip((small - lo) / (hi - lo), 0.0, 1.0)


def _crossing(profile: np.ndarray, start: int, step: int, level: float, stop: int) -> int:
    """The first index from ``start`` towards ``stop`` where ``profile`` reaches ``level``."""
    i = start
    while i != stop and profile[i] < level:
        i += step
    return i


def fit_boxes(image: np.ndarray) -> tuple[tuple[float, float, float, float], ...]:
    """Both lungs' boxes ``(top, bottom, left, right)`` as fractions of the image.

    The first box is the lung on the image's left.
    """
    g = _normalised(image)
    n = GRID
    band = g[int(0.30 * n):int(0.65 * n)]
    cols = np.percentile(band, 30, axis=0)
    mid = int(0.35 * n) + int(np.argmax(cols[int(0.35 * n):int(0.65 * n)]))
    boxes = []
    for side in (-1, 1):
        lo, hi = (int(0.03 * n), mid - 2) if side < 0 else (mid + 2, int(0.97 * n))
        if hi - lo < 4:
            lo, hi = (int(0.05 * n), n // 2) if side < 0 else (n // 2, int(0.95 * n))
        valley = lo + int(np.argmin(cols[lo:hi]))
        outer = cols[:valley + 1] if side < 0 else cols[valley:]
        lateral_level = cols[valley] + 0.5 * (outer.max() - cols[valley])
        lateral = _crossing(cols, valley, side, lateral_level, 0 if side < 0 else n - 1)
        medial_level = cols[valley] + 0.5 * (cols[mid] - cols[valley])
        medial = _crossing(cols, valley, -side, medial_level, mid)
        a, b = sorted((lateral, medial))
        width = max(b - a, 4)
        inner = g[:, a + width // 4:b - width // 4 + 1] if b - a >= 8 else g[:, a:b + 1]
        rows = np.percentile(inner, 30, axis=1)
        y0 = int(0.25 * n) + int(np.argmin(rows[int(0.25 * n):int(0.70 * n)]))
        up_level = rows[y0] + 0.5 * (rows[:y0 + 1].max() - rows[y0])
        down_level = rows[y0] + 0.5 * (rows[y0:].max() - rows[y0])
        top = _crossing(rows, y0, -1, up_level, 0)
        bottom = _crossing(rows, y0, 1, down_level, n - 1)
        boxes.append(_plausible(top / n, bottom / n, a / n, b / n))
    return tuple(boxes)


def _plausible(top: float, bottom: float, left: float, right: float
               ) -> tuple[float, float, float, float]:
    """A box held to a lung's proportions: at least 18% of the image wide, 35% tall."""
    width, height = right - left, bottom - top
    if width < 0.18:
        centre = (left + right) / 2
        left, right = centre - 0.09, centre + 0.09
    if height < 0.35:
        centre = (top + bottom) / 2
        top, bottom = centre - 0.175, centre + 0.175
    return (max(0.0, top), min(1.0, bottom), max(0.0, left), min(1.0, right))


def draw_fields(boxes: tuple[tuple[float, float, float, float], ...],
                shape: tuple[int, int]) -> np.ndarray:
    """Both outlines drawn into their boxes on an ``(h, w)`` bool mask."""
    h, w = shape
    canvas = np.zeros((h, w), dtype=np.uint8)
    for (top, bottom, left, right), outline, side in zip(boxes, (RIGHT_LUNG, LEFT_LUNG),
                                                         (-1, 1), strict=True):
        points = []
        for u, v in outline:
            x = right - u * (right - left) if side < 0 else left + u * (right - left)
            points.append((x * w, (top + v * (bottom - top)) * h))
        polygon = np.round(np.array(points) * 16).astype(np.int32)  # 4 fractional bits
        cv2.fillPoly(canvas, [polygon], 1, lineType=cv2.LINE_8, shift=4)
    return canvas.astype(bool)
