"""DICOM stored values to display values: grayscale in [0, 1], air dark.

The order is the one PS3.3 C.11 prescribes for grayscale: stored values ->
Modality LUT (the ``ModalityLUTSequence``, or rescale slope and intercept) ->
VOI LUT (the ``VOILUTSequence``, or window centre and width, LINEAR or
SIGMOID), both applied to the modality output -> inverted for
``MONOCHROME1``. Without a VOI, the full range the stored bits allow (after
the modality LUT) is shown. ``PALETTE COLOR`` images go through their red,
green and blue lookup tables; colour images are converted with the ITU-R 601
luma weights.

Values that cannot give a picture are refused before any of that
(:func:`check_values`): a rescale slope of 0, NaN or inf, a slope or intercept
that overflows or swamps the stored range, and float pixels (Float Pixel Data)
that are NaN or inf. Each would otherwise come out as a blank image that a
model still scores.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114])
_TAGS = {"RescaleSlope": "(0028,1053)", "RescaleIntercept": "(0028,1052)",
         "FloatPixelData": "(7FE0,0008)", "DoubleFloatPixelData": "(7FE0,0009)"}


class MeaninglessValues(ValueError):
    """A Modality value or pixel that cannot give a picture; the message names the tag."""


def check_values(pixels: np.ndarray, ds: Any) -> None:
    """Refuse stored values and a rescale that mean nothing, naming the tag and the value.

    :raises MeaninglessValues: float pixels that are NaN or inf; a rescale slope or
        intercept that is not a finite number; a slope of 0; a slope or intercept that
        overflows the stored range or swamps it into one value.
    """
    if pixels.dtype.kind == "f" and not np.isfinite(pixels).all():
        keyword = "DoubleFloatPixelData" if "DoubleFloatPixelData" in ds else "FloatPixelData"
        bad = int(np.count_nonzero(~np.isfinite(pixels)))
        raise MeaninglessValues(f"{_named(keyword)} holds {bad:,} NaN or infinite values")
    if pixels.ndim == 3 or ("ModalityLUTSequence" in ds and len(ds.ModalityLUTSequence)):
        return
    slope = _number(ds, "RescaleSlope", 1.0)
    intercept = _number(ds, "RescaleIntercept", 0.0)
    if slope == 0:
        raise MeaninglessValues(f"{_named('RescaleSlope')} is 0: every pixel would be the "
                                "same value")
    lo, hi = _stored_range(ds, pixels)
    scaled = sorted((lo * slope, hi * slope))
    if not all(math.isfinite(v) for v in scaled):
        raise MeaninglessValues(f"{_named('RescaleSlope')} is {slope:g}: the rescaled "
                                "values overflow")
    ends = (scaled[0] + intercept, scaled[1] + intercept)
    if not all(math.isfinite(v) for v in ends):
        raise MeaninglessValues(f"{_named('RescaleIntercept')} is {intercept:g}: the "
                                "rescaled values overflow")
    if hi > lo and ends[0] == ends[1]:
        raise MeaninglessValues(f"{_named('RescaleIntercept')} is {intercept:g}: it swamps "
                                "the stored values, every pixel would be the same value")


def _named(keyword: str) -> str:
    return f"{keyword} {_TAGS[keyword]}"


def _number(ds: Any, keyword: str, default: float) -> float:
    """A rescale value as a finite float (``default`` when absent or empty)."""
    value = ds.get(keyword)
    if value is None or value == "":
        return default
    try:
        number = float(_first(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MeaninglessValues(f"{_named(keyword)} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise MeaninglessValues(f"{_named(keyword)} is {number:g}: not a finite number")
    return number


def _stored_range(ds: Any, pixels: np.ndarray) -> tuple[float, float]:
    """The stored values' range: the data's own for float pixels, else what the bits allow."""
    if pixels.dtype.kind == "f":
        return (float(pixels.min()), float(pixels.max())) if pixels.size else (0.0, 0.0)
    bits = int(ds.get("BitsStored", 8 * pixels.dtype.itemsize) or 8 * pixels.dtype.itemsize)
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    lo = -(2.0 ** (bits - 1)) if signed else 0.0
    hi = (2.0 ** (bits - 1) - 1) if signed else (2.0**bits - 1)
    return lo, hi


def to_unit_gray(pixels: np.ndarray, ds: Any) -> np.ndarray:
    """Stored values of one frame -> float32 grayscale in [0, 1] (0 is air)."""
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric == "PALETTE COLOR":
        return _palette(pixels, ds)
    if pixels.ndim == 3:
        top = float(2 ** int(ds.get("BitsStored", 8) or 8) - 1)
        rgb = np.nan_to_num(pixels[..., :3].astype(np.float64)) / top
        return np.clip(rgb @ _LUMA, 0.0, 1.0).astype(np.float32)
    values = modality(pixels, ds)
    unit = voi(values, ds)
    if unit is None:
        lo, hi = modality_range(ds, pixels)
        unit = np.clip((values - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(values)
    if photometric == "MONOCHROME1":  # 0 is white: invert so air is dark as in MONOCHROME2
        unit = 1.0 - unit
    return unit.astype(np.float32)


def modality(pixels: np.ndarray, ds: Any) -> np.ndarray:
    """Stored values through the Modality LUT or rescale, as float64 (NaN becomes 0)."""
    from pydicom.pixels import apply_modality_lut

    return np.nan_to_num(apply_modality_lut(pixels, ds).astype(np.float64))


def voi(values: np.ndarray, ds: Any) -> np.ndarray | None:
    """Modality values through the first VOI LUT or window, in [0, 1]; None if there is none."""
    from pydicom.pixels import apply_voi

    if "VOILUTSequence" in ds and len(ds.VOILUTSequence):
        item = ds.VOILUTSequence[0]
        bits = int(item.LUTDescriptor[2]) or 16
        mapped = apply_voi(values, ds, index=0).astype(np.float64)
        return np.clip(mapped / float(2**bits - 1), 0.0, 1.0)
    if "WindowCenter" in ds and "WindowWidth" in ds:
        centre, width = float(_first(ds.WindowCenter)), float(_first(ds.WindowWidth))
        if not (np.isfinite(centre) and np.isfinite(width)):
            return None
        function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
        if function == "SIGMOID":
            return 1.0 / (1.0 + np.exp(-4.0 * (values - centre) / max(width, 1e-6)))
        if function == "LINEAR_EXACT":
            return np.clip((values - centre) / max(width, 1e-6) + 0.5, 0.0, 1.0)
        width = max(width, 1.0)
        return np.clip((values - (centre - 0.5)) / max(width - 1.0, 1.0) + 0.5, 0.0, 1.0)
    return None


def modality_range(ds: Any, pixels: np.ndarray) -> tuple[float, float]:
    """The value range the stored values allow, after the Modality LUT or rescale (for
    float pixels, the data's own range)."""
    if "ModalityLUTSequence" in ds and len(ds.ModalityLUTSequence):
        data = np.asarray(ds.ModalityLUTSequence[0].LUTData, dtype=np.float64)
        return (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
    lo, hi = _stored_range(ds, pixels)
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    lo, hi = sorted((lo * slope + intercept, hi * slope + intercept))
    return lo, hi


def _palette(pixels: np.ndarray, ds: Any) -> np.ndarray:
    """PALETTE COLOR indices through the red, green and blue LUTs, then to luma."""
    from pydicom.pixels import apply_color_lut

    rgb = apply_color_lut(pixels, ds).astype(np.float64)
    descriptor = ds.get("RedPaletteColorLookupTableDescriptor")
    bits = int(descriptor[2]) if descriptor is not None and len(descriptor) > 2 else 16
    top = float(2 ** (8 if bits <= 8 else 16) - 1)
    return np.clip((rgb[..., :3] / top) @ _LUMA, 0.0, 1.0).astype(np.float32)


def _first(value: object) -> object:
    """Window values may be multi-valued; the first is the default view."""
    try:
        return value[0]  # type: ignore[index]
    except (TypeError, IndexError):
        return value
