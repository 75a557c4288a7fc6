"""Cheap properties of one image, read only outside its lungs, plus how it was made.

Acquisition facts (size, aspect, bit depth, colour, file format and bytes, the
allowlisted DICOM tags: :data:`bamnet_core.imaging.dicom_tags.WRITTEN`) and
pixel statistics (intensity, borders and corners, the black frame, colour) taken
only **outside the image's lung fields, dilated**: an opacity in the lungs
changes none of them. In public COVID collections each class comes from other
hospitals and publications, so these properties can predict the label
(DeGrave et al. 2021); the outside-the-lungs baseline
(:mod:`bamnet_core.data.shortcut_baseline`) measures how well, and a dataset
whose classes differ only inside the lungs gives it nothing to read.

:func:`describe` runs where a file's bytes and decoded pixels are already at
hand, so it costs no decode. Statistics are taken on a strided sample of at
most 64 pixels a side (a view, no copy or resize), which keeps the cost a few
percent of decoding; the lung fields are found on that sample
(:func:`lung_field_outside`).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from .dicom_tags import WRITTEN

# The lung field of one decoded image: the one place it comes from (a fixed-shape stand-in
# until the lung-field estimator's own function for one image replaces this import).
from .lung_stand_in import field_of_image

PROPERTIES_VERSION = 4  # 4: pixel statistics only outside the dilated lung fields
PIXELS = "outside the dilated lung fields"  # where the pixel statistics come from
_THUMB = 64  # statistics are computed on at most this many pixels a side
DILATE = 0.06  # the lung fields grow by this share of the image's longer side
BYTES_STEPS = 4  # file sizes are rounded to 4 steps a doubling (19% apart)
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


def coarse_size(value: float) -> float:
    """``value`` rounded to the nearest of :data:`BYTES_STEPS` steps a doubling.

    A file's size is an acquisition fact at the scale where encoders, qualities and
    resolutions differ (tens of percent and more); below it, the size follows the pixels,
    lungs included (an opacity compresses differently), so that part is dropped.
    """
    if not value > 0 or not math.isfinite(value):
        return value
    return float(2.0 ** (round(math.log2(value) * BYTES_STEPS) / BYTES_STEPS))


def lung_field_outside(thumb: np.ndarray, lungs: np.ndarray | None = None) -> np.ndarray:
    """Where the pixel statistics may look: True outside the lung fields, dilated.

    :param thumb: the strided sample of the image (:func:`_thumbnail`).
    :param lungs: its lung fields at the same size (True inside); None: found by
        ``field_of_image``, the one source of an image's lung field here.
    :raises ValueError: lung fields of another shape than ``thumb``'s.
    """
    field = field_of_image(thumb) if lungs is None else lungs
    field = np.asarray(field, dtype=np.uint8)
    if field.shape != thumb.shape[:2]:
        raise ValueError(f"lung fields of shape {field.shape} for an image of {thumb.shape[:2]}")
    radius = max(1, round(DILATE * max(thumb.shape[:2])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(field, kernel) == 0


def colour_difference(raw: np.ndarray | None, outside: np.ndarray | None = None) -> float:
    """Mean largest difference between colour channels, in [0, 1]; 0 for grayscale.

    Publication figures tinted blue or carrying coloured arrows score high;
    grayscale saved as RGB scores 0.

    :param outside: where to look, on the strided sample (None: everywhere).
    """
    if raw is None or raw.ndim != 3 or raw.shape[2] < 3:
        return 0.0
    small = np.ascontiguousarray(_thumbnail(raw)[..., :3])
    top = 65535.0 if raw.dtype == np.uint16 else 255.0 if raw.dtype == np.uint8 else 1.0
    if small.dtype in (np.uint8, np.uint16, np.float32):  # OpenCV: several times faster
        a, b, c = cv2.split(small)
        spread = cv2.absdiff(cv2.max(cv2.max(a, b), c), cv2.min(cv2.min(a, b), c))
    else:
        spread = small.max(axis=2).astype(np.float32) - small.min(axis=2)
    if outside is None:
        return float(np.mean(spread) / top)
    seen = spread[outside]
    return float(seen.mean() / top) if seen.size else math.nan


def _frame_width(thumb: np.ndarray, outside: np.ndarray) -> float:
    """Share of the image, from the edges in, taken up by near-black rows and columns
    (each row and column judged by its pixels outside the lungs)."""
    h, w = thumb.shape
    weights = outside.astype(np.float32)
    seen = thumb * weights
    with np.errstate(invalid="ignore", divide="ignore"):  # a row all lungs is never dark
        rows = seen.sum(axis=1) / weights.sum(axis=1)
        cols = seen.sum(axis=0) / weights.sum(axis=0)

    def run(lit: np.ndarray) -> int:  # leading near-black entries, from both ends
        if not lit.any():
            return 2 * len(lit)
        return int(lit.argmax()) + int(lit[::-1].argmax())

    dark = run(~(rows <= _DARK)) + run(~(cols <= _DARK))
    return min(1.0, dark / (2 * h + 2 * w))


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    return (float(values.mean()), float(values.std())) if values.size else (math.nan, math.nan)


def intensity_stats(gray: np.ndarray, outside: np.ndarray | None = None) -> dict[str, float]:
    """Intensity, border and corner statistics of a grayscale image in [0, 1], taken only
    where ``outside`` (on the strided sample, :func:`lung_field_outside`) is True.

    Written for speed (one sort, views): it runs on every image decoded, and must stay a
    small fraction of the decode. No pixel outside: every statistic is NaN (unknown).
    """
    thumb = np.ascontiguousarray(_thumbnail(gray), dtype=np.float32)
    h, w = thumb.shape
    if outside is None:
        outside = np.ones((h, w), dtype=bool)
    ordered = np.sort(thumb[outside], axis=None)  # one sort gives percentiles and shares
    n = ordered.size
    if not n:
        return {key: math.nan for key in NUMERIC[NUMERIC.index("mean"):]}
    quantiles = {f"p{q:02d}": float(ordered[min(n - 1, round(q / 100 * (n - 1)))])
                 for q in (1, 5, 25, 50, 75, 95, 99)}
    edge = np.zeros((h, w), dtype=bool)
    ey, ex = max(1, int(h * _EDGE)), max(1, int(w * _EDGE))
    edge[:ey], edge[-ey:], edge[:, :ex], edge[:, -ex:] = True, True, True, True
    border = thumb[edge & outside]
    cy, cx = max(1, int(h * _CORNER)), max(1, int(w * _CORNER))
    patches = [(slice(None, cy), slice(None, cx)), (slice(None, cy), slice(-cx, None)),
               (slice(-cy, None), slice(None, cx)), (slice(-cy, None), slice(-cx, None))]
    corners = [float(thumb[p][outside[p]].mean()) for p in patches if outside[p].any()]
    dark = int(ordered.searchsorted(_DARK, side="right"))
    bright = int(ordered.searchsorted(_BRIGHT, side="left"))
    mean, std = _mean_std(ordered)
    border_mean, border_std = _mean_std(border)
    return {
        "mean": mean, "std": std, **quantiles,
        "dark_share": dark / n, "bright_share": (n - int(bright)) / n,
        "border_mean": border_mean, "border_std": border_std,
        "border_bright_share": float(np.count_nonzero(border >= _BRIGHT)) / border.size
        if border.size else math.nan,
        "corner_mean": sum(corners) / len(corners) if corners else math.nan,
        "corner_max": max(corners) if corners else math.nan,
        "frame_width": _frame_width(thumb, outside),
    }


def describe(gray: np.ndarray, *, raw: np.ndarray | None, data: bytes, fmt: str,
             bit_depth: int | None = None, tags: dict[str, str] | None = None,
             lungs: np.ndarray | None = None) -> dict[str, Any]:
    """All properties of one decoded image, as a flat JSON-ready dict.

    Pixel statistics come only from outside the image's lung fields, dilated; ``pixels``
    says so (a property file without it was read over the whole image).

    :param gray: the decoded grayscale image in [0, 1] (what the model sees).
    :param raw: the decoded pixels before conversion to gray (colour, bit depth).
    :param data: the file's bytes (size and compression, to :func:`coarse_size`).
    :param fmt: the file format (``jpeg``, ``png``, ``dicom``, ...).
    :param bit_depth: bits per sample when known (DICOM ``BitsStored``).
    :param tags: DICOM tags (``modality``, ``manufacturer``, ...), when any.
    :param lungs: the image's lung fields ``(h, w)``, True inside, when known; None:
        ``field_of_image`` finds them.
    """
    h, w = gray.shape[:2]
    source = raw if raw is not None else gray
    if bit_depth is None:
        bit_depth = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(source.dtype, 32)
    channels = 1 if source.ndim == 2 else int(source.shape[2])
    thumb = _thumbnail(gray)
    outside = lung_field_outside(thumb, None if lungs is None else _thumbnail(lungs))
    difference = colour_difference(raw, outside)
    mode = "gray" if channels == 1 else "colour" if difference > 0.01 else "rgb-gray"
    props: dict[str, Any] = {
        "width": w, "height": h, "aspect": round(w / h, 4) if h else math.nan,
        "megapixels": w * h / 1e6, "bit_depth": bit_depth, "channels": channels,
        "colour_difference": difference, "file_bytes": round(coarse_size(len(data))),
        "bytes_per_pixel": coarse_size(len(data) / (w * h)) if w * h else math.nan,
        **intensity_stats(gray, outside),
        "format": fmt, "colour_mode": mode, "pixels": PIXELS,
    }
    for key in CATEGORICAL[2:]:
        props[key] = (tags or {}).get(key, "")
    return props
