"""DICOM decoding through pydicom: modality LUT, VOI LUT/windowing, BitsStored, MONOCHROME1.

Only :mod:`bamnet_core.imaging.decode` calls this (for ``decode_bytes`` and
``decode_described``); pydicom is imported lazily so that raster-only users
never pay for it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import ImageDecodeError
from .limits import check_pixel_count

_COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT")


# tag keyword -> property name recorded by the shortcut baseline
TAGS = {"Modality": "modality", "Manufacturer": "manufacturer",
        "PhotometricInterpretation": "photometric", "ViewPosition": "view_position",
        "InstitutionName": "institution"}


def decode_dicom_described(path: Path, data: bytes,
                           max_pixels: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Decode a DICOM file's first frame to float32 grayscale in [0, 1], with its tags.

    The tags returned are ``bit_depth`` (``BitsStored``) and those in
    :data:`TAGS` that the file holds, as short strings.

    Display order is: stored values -> modality LUT (rescale slope and
    intercept) -> VOI LUT or window centre/width when present, else the full
    range ``BitsStored`` allows -> inverted for ``MONOCHROME1`` so that air is
    dark, as in every other format.

    :raises ImageDecodeError: unreadable file, no pixel data, too many pixels,
        or pixel data pydicom cannot decode.
    """
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    where = str(path)
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception as exc:
        raise ImageDecodeError(where, f"unreadable DICOM: {exc}") from None
    if "PixelData" not in ds:
        raise ImageDecodeError(where, "DICOM has no pixel data (not an image object)",
                               kind="no-pixels")
    rows, cols = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)

    check_pixel_count(path, cols, rows, max_pixels)
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        # files without a meta header: guess the commonest encoding rather than fail
        ds.file_meta = getattr(ds, "file_meta", pydicom.dataset.FileMetaDataset())
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    try:
        pixels = ds.pixel_array
    except Exception as exc:
        raise ImageDecodeError(
            where, f"cannot decode DICOM pixels: {exc}", kind="truncated",
            hint="compressed DICOM may need pylibjpeg or gdcm installed",
        ) from None
    info: dict[str, Any] = {"bit_depth": int(ds.get("BitsStored", 0) or 0) or None}
    for keyword, name in TAGS.items():
        value = str(ds.get(keyword, "") or "").strip()[:64]
        if value:
            info[name] = value
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        pixels = pixels[0]
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric in _COLOUR or pixels.ndim == 3:
        if pixels.ndim == 3 and pixels.shape[-1] == 3:
            if photometric.startswith("YBR"):
                from pydicom.pixels import convert_color_space

                pixels = convert_color_space(pixels, photometric, "RGB")
            rgb = _to_uint8(pixels)
            return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0, info
        raise ImageDecodeError(where, f"unsupported DICOM pixel layout {pixels.shape}",
                               kind="not-an-image")
    values = apply_modality_lut(pixels, ds).astype(np.float64)
    if "VOILUTSequence" in ds:
        lut = ds.VOILUTSequence[0]
        values = apply_voi_lut(pixels, ds).astype(np.float64)
        lut_values = np.asarray(lut.LUTData, dtype=np.float64)
        lo, hi = float(lut_values.min()), float(lut_values.max())
    elif "WindowCenter" in ds and "WindowWidth" in ds:
        values = _window(values, float(_first(ds.WindowCenter)), float(_first(ds.WindowWidth)))
        lo, hi = 0.0, 1.0
    else:
        lo, hi = _stored_range(ds, pixels)
    unit = np.clip((values - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(values)
    if photometric == "MONOCHROME1":  # 0 is white: invert so air is dark as in MONOCHROME2
        unit = 1.0 - unit
    return unit.astype(np.float32), info


def _first(value: object) -> object:
    """Window values may be multi-valued; the first is the default view."""
    try:
        return value[0]  # type: ignore[index]
    except (TypeError, IndexError):
        return value


def _window(values: np.ndarray, centre: float, width: float) -> np.ndarray:
    """The DICOM linear window (PS3.3 C.11.2.1.2), mapped to [0, 1]."""
    width = max(width, 1.0)
    return np.clip((values - (centre - 0.5)) / (width - 1.0) + 0.5, 0.0, 1.0)


def _stored_range(ds: object, pixels: np.ndarray) -> tuple[float, float]:
    """The value range ``BitsStored`` allows, after the modality rescale."""
    get = ds.get  # type: ignore[attr-defined]
    bits = int(get("BitsStored", 8 * pixels.dtype.itemsize) or 8 * pixels.dtype.itemsize)
    signed = int(get("PixelRepresentation", 0) or 0) == 1
    lo = -(2.0 ** (bits - 1)) if signed else 0.0
    hi = (2.0 ** (bits - 1) - 1) if signed else (2.0**bits - 1)
    slope = float(get("RescaleSlope", 1) or 1)
    intercept = float(get("RescaleIntercept", 0) or 0)
    lo, hi = sorted((lo * slope + intercept, hi * slope + intercept))
    return lo, hi


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    top = float(pixels.max()) or 1.0
    return np.clip(pixels.astype(np.float64) / top * 255.0, 0, 255).astype(np.uint8)
