"""Cheap properties of one image that say nothing about the lungs.

Size, aspect, bit depth, colour, file format and compression, intensity
statistics, borders and corners, and the allowlisted DICOM tags
(:data:`bamnet_core.imaging.dicom_tags.WRITTEN`). In public COVID
collections each class comes from other hospitals and publications, so these
properties alone can predict the label (DeGrave et al. 2021); the shortcut
baseline (:mod:`bamnet_core.data.shortcut_baseline`) measures how well.

:func:`describe` runs where a file's bytes and decoded pixels are already at
hand, so it costs no decode. Statistics are taken on a strided sample of at
most 48 pixels a side (a view, no copy or resize), which keeps the cost a few
percent of decoding.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from .dicom_tags import WRITTEN

PROPERTIES_VERSION = 3  # 3: the institution tag is no longer recorded
_THUMB = 48  # statistics are computed on at most this many pixels a side
_EDGE = 0.05  # border strip: 5% of each side
_CORNER = 0.1  # corner patch: 10% of each side
_DARK, _BRIGHT = 0.02, 0.95

# Numeric properties, in a fixed order; a value may be NaN when unknown.
NUMERIC = (
    "width", "height", "aspect", "megapixels", "bit_depth", "channels", "colour_difference",
    "file_bytes", "bytes_per_pixel",
    "mean", "std", "p01", "p05", "p25", "p50", "p75", "p95", "p99", "dark_share",
    "bright_share", "border_mean", "border_std", "border_bright_share", "corner_mean",
    "corner_max", "frame_width",
)
# Categorical properties: short strings; "" when unknown.
# The DICOM ones are the allowlisted tags (dicom_tags.WRITTEN): no identifying tag, such
# as the institution, is ever a property, since properties are written to the run folder.
CATEGORICAL = ("format", "colour_mode", *WRITTEN.values())


def _thumbnail(image: np.ndarray) -> np.ndarray:
    """A strided view of at most ``_THUMB`` pixels a side.

    Sampling every k-th pixel instead of resizing costs nothing; the
    statistics it feeds (means, percentiles, border and corner levels) are
    stable under it for radiographs, which have no fine periodic texture at
    that scale.
    """
    h, w = image.shape[:2]
    step = max(1, math.ceil(max(h, w) / _THUMB))
    return image[::step, ::step]


def colour_difference(raw: np.ndarray | None) -> float:
    """Mean largest difference between colour channels, in [0, 1]; 0 for grayscale.

    Publication figures tinted blue or carrying coloured arrows score high;
    grayscale saved as RGB scores 0.
    """
    if raw is None or raw.ndim != 3 or raw.shape[2] < 3:
        return 0.0
    small = np.ascontiguousarray(_thumbnail(raw)[..., :3])
    top = 65535.0 if raw.dtype == np.uint16 else 255.0 if raw.dtype == np.uint8 else 1.0
    if small.dtype in (np.uint8, np.uint16, np.float32):  # OpenCV: several times faster
        a, b, c = cv2.split(small)
        spread = cv2.absdiff(cv2.max(cv2.max(a, b), c), cv2.min(cv2.min(a, b), c))
        return float(cv2.mean(spread)[0] / top)
    spread = small.max(axis=2).astype(np.float32) - small.min(axis=2)
    return float(spread.mean() / top)


def _frame_width(thumb: np.ndarray) -> float:
    """Share of the image, from the edges in, taken up by near-black rows and columns."""
    h, w = thumb.shape
    rows = cv2.reduce(thumb, 1, cv2.REDUCE_AVG).ravel()
    cols = cv2.reduce(thumb, 0, cv2.REDUCE_AVG).ravel()

    def run(lit: np.ndarray) -> int:  # leading near-black entries, from both ends
        if not lit.any():
            return 2 * len(lit)
        return int(lit.argmax()) + int(lit[::-1].argmax())

    dark = run(rows > _DARK) + run(cols > _DARK)
    return min(1.0, dark / (2 * h + 2 * w))


def intensity_stats(gray: np.ndarray) -> dict[str, float]:
    """Intensity, border and corner statistics of a grayscale image in [0, 1].

    Written for speed (OpenCV reductions, one sort): it runs on every image
    decoded, and must stay a small fraction of the decode.
    """
    thumb = np.ascontiguousarray(_thumbnail(gray), dtype=np.float32)
    h, w = thumb.shape
    ordered = np.sort(thumb, axis=None)  # one sort gives percentiles and shares
    n = ordered.size
    quantiles = {f"p{q:02d}": float(ordered[min(n - 1, round(q / 100 * (n - 1)))])
                 for q in (1, 5, 25, 50, 75, 95, 99)}
    ey, ex = max(1, int(h * _EDGE)), max(1, int(w * _EDGE))
    border = np.concatenate([thumb[:ey].ravel(), thumb[-ey:].ravel(),
                             thumb[:, :ex].ravel(), thumb[:, -ex:].ravel()])
    cy, cx = max(1, int(h * _CORNER)), max(1, int(w * _CORNER))
    corners = [cv2.mean(c)[0] for c in (thumb[:cy, :cx], thumb[:cy, -cx:],
                                        thumb[-cy:, :cx], thumb[-cy:, -cx:])]
    dark = int(ordered.searchsorted(_DARK, side="right"))
    bright = int(ordered.searchsorted(_BRIGHT, side="left"))
    mean, std = cv2.meanStdDev(thumb)
    border_mean, border_std = cv2.meanStdDev(border)
    return {
        "mean": float(mean[0, 0]), "std": float(std[0, 0]), **quantiles,
        "dark_share": dark / n, "bright_share": (n - int(bright)) / n,
        "border_mean": float(border_mean[0, 0]), "border_std": float(border_std[0, 0]),
        "border_bright_share": float(np.count_nonzero(border >= _BRIGHT)) / border.size,
        "corner_mean": sum(corners) / 4, "corner_max": max(corners),
        "frame_width": _frame_width(thumb),
    }


def describe(gray: np.ndarray, *, raw: np.ndarray | None, data: bytes, fmt: str,
             bit_depth: int | None = None, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """All properties of one decoded image, as a flat JSON-ready dict.

    :param gray: the decoded grayscale image in [0, 1] (what the model sees).
    :param raw: the decoded pixels before conversion to gray (colour, bit depth).
    :param data: the file's bytes (size, compression).
    :param fmt: the file format (``jpeg``, ``png``, ``dicom``, ...).
    :param bit_depth: bits per sample when known (DICOM ``BitsStored``).
    :param tags: DICOM tags (``modality``, ``manufacturer``, ...), when any.
    """
    h, w = gray.shape[:2]
    source = raw if raw is not None else gray
    if bit_depth is None:
        bit_depth = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(source.dtype, 32)
    channels = 1 if source.ndim == 2 else int(source.shape[2])
    difference = colour_difference(raw)
    mode = "gray" if channels == 1 else "colour" if difference > 0.01 else "rgb-gray"
    props: dict[str, Any] = {
        "width": w, "height": h, "aspect": round(w / h, 4) if h else math.nan,
        "megapixels": w * h / 1e6, "bit_depth": bit_depth, "channels": channels,
        "colour_difference": difference, "file_bytes": len(data),
        "bytes_per_pixel": len(data) / (w * h) if w * h else math.nan,
        **intensity_stats(gray),
        "format": fmt, "colour_mode": mode,
    }
    for key in CATEGORICAL[2:]:
        props[key] = (tags or {}).get(key, "")
    return props
