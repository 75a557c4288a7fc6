"""Decode a JPEG once, refusing scan data a decoder would silently complete.

OpenCV's ``imdecode`` (libjpeg) treats a JPEG whose entropy-coded data ends
early, or holds garbage, as a *warning*: it fills the missing blocks and
returns an image. A file cut to 10% with its end marker put back, or a header
patched to claim 8900x8900 pixels, is then scored like a whole image. PNG,
BMP and TIFF need no such check: their decoders fail on the same damage.

:func:`decode_jpeg` therefore decodes a JPEG with libjpeg-turbo through
``simplejpeg`` with warnings as errors, and its pixels are the ones used: one
decode per image, the same pixels OpenCV gives (the same libjpeg-turbo, the
same integer DCT and upsampling). Two kinds of JPEG still go to OpenCV, after
:func:`check_jpeg` has looked at their scan: those with an EXIF block (OpenCV
applies the orientation it names) and those in CMYK or YCCK (which
libjpeg-turbo's simple interface cannot turn into gray). Neither occurs in a
typical radiograph folder. Nothing here changes process-wide state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ImageDecodeError
from .jpeg_markers import APP1, SOS, BrokenChain, header_segments

JPEG_SOI = b"\xff\xd8"
_EXIF = b"Exif\x00\x00"
_DIRECT = {"Gray": "GRAY", "YCbCr": "BGR", "RGB": "BGR"}


def decode_jpeg(path: Path, data: bytes) -> np.ndarray | None:
    """Decode a JPEG with warnings as errors: gray ``HxW`` or BGR ``HxWx3`` uint8 pixels.

    :returns: the pixels, or ``None`` when OpenCV must decode the file (not a
        JPEG; a JPEG with EXIF, in CMYK/YCCK, or one libjpeg-turbo cannot
        decode at all here, such as 12-bit samples) -- a damaged scan in a
        file of the first two kinds has been refused already.
    :raises ImageDecodeError: (``truncated``) when the scan data is incomplete
        or corrupt.
    """
    if not data.startswith(JPEG_SOI):
        return None
    import simplejpeg

    try:
        colorspace = simplejpeg.decode_jpeg_header(data)[2]
    except (ValueError, RuntimeError):
        return None
    target = _DIRECT.get(colorspace)
    if target is None or has_exif(data):
        check_jpeg(path, data)
        return None
    try:
        image = simplejpeg.decode_jpeg(data, colorspace=target, strict=True)
    except (ValueError, RuntimeError) as exc:
        _refuse_if_warning(path, data, exc)
        return None
    return image[..., 0] if target == "GRAY" else image


def check_jpeg(path: Path, data: bytes) -> None:
    """Raise :class:`ImageDecodeError` (``truncated``) when a JPEG's scan data is incomplete.

    Decodes at 1/8 scale: every coefficient is still entropy-decoded, so every
    truncation or corruption warning still fires, while the inverse DCT costs
    little. A JPEG that libjpeg-turbo cannot decode at all here (an
    unsupported precision or colour conversion) is left to the full decoder.
    """
    if not data.startswith(JPEG_SOI):
        return
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_factor=8, strict=True)
    except (ValueError, RuntimeError) as exc:
        _refuse_if_warning(path, data, exc)


def _refuse_if_warning(path: Path, data: bytes, exc: Exception) -> None:
    """Refuse the file when the strict decode failed on a warning; a fatal error is not ours."""
    import simplejpeg

    warning = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_factor=8, strict=False)
    except (ValueError, RuntimeError):
        return
    raise ImageDecodeError(str(path), f"corrupt or truncated JPEG data ({warning})",
                           kind="truncated")


def has_exif(data: bytes) -> bool:
    """Whether a JPEG carries an EXIF block (APP1 ``Exif``) before its scan.

    Walks the marker segments from the start of the file to the first scan;
    an unreadable segment chain counts as EXIF, so the file goes the careful way.
    """
    try:
        for segment in header_segments(data):
            if segment.marker == SOS:
                return False
            if segment.marker == APP1 and segment.payload[:6] == _EXIF:
                return True
    except BrokenChain:
        return True
    return True  # no scan found: not a header we can vouch for
