"""DICOM decoding: bounded read, one frame, display LUTs, allowlisted tags.

Only :mod:`bamnet_core.imaging.decode` calls this (for ``decode_bytes`` and
``decode_described``); pydicom is imported lazily so that raster-only users
never pay for it. The steps live in their own modules: :mod:`.dicom_read`
(the header and its memory bounds), :mod:`.dicom_codecs` (the first frame,
or an error naming the codec), :mod:`.dicom_display` (Modality LUT -> VOI
LUT -> MONOCHROME1, palettes) and :mod:`.dicom_tags` (the allowlist).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageDecodeError
from .dicom_codecs import decode_first_frame
from .dicom_display import MeaninglessValues, check_values, to_unit_gray
from .dicom_read import exception_text, read_dataset
from .dicom_tags import WRITTEN, written_tags

TAGS = WRITTEN  # tag keyword -> property name; the only tags ever written


def decode_dicom_described(path: Path, data: bytes,
                           max_pixels: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Decode a DICOM file's first frame to float32 grayscale in [0, 1], with its tags.

    The tags returned are ``bit_depth`` (``BitsStored``) and the allowlisted
    ones (:data:`bamnet_core.imaging.dicom_tags.WRITTEN`) that the file
    holds, as short strings. Rows x columns x frames x samples are checked
    against ``max_pixels`` before anything is decoded, and only the first
    frame is decoded.

    :raises ImageDecodeError: unreadable file, no pixel data, too many pixels,
        pixel data that disagrees with the header, an unsupported
        compression or a codec failure (each with its own ``kind``).
    """
    ds = read_dataset(path, data, max_pixels)
    pixels = decode_first_frame(path, ds)
    if pixels.ndim == 3 and pixels.shape[-1] not in (3, 4):
        raise ImageDecodeError(str(path), f"unsupported DICOM pixel layout {pixels.shape}",
                               kind="not-an-image")
    try:
        check_values(pixels, ds)
    except MeaninglessValues as exc:
        raise ImageDecodeError(str(path), f"DICOM pixels mean nothing: {exc}", kind="corrupt",
                               hint="fix the file's values, or leave it out") from None
    try:
        gray = to_unit_gray(pixels, ds)
    except Exception as exc:  # a malformed LUT must stay a per-file error
        raise ImageDecodeError(str(path), f"corrupt DICOM lookup table or window: "
                               f"{type(exc).__name__}: {exception_text(exc)}",
                               kind="corrupt") from None
    info: dict[str, Any] = {"bit_depth": int(ds.get("BitsStored", 0) or 0) or None}
    info.update(written_tags(ds))
    return gray, info
