"""Refuse raster data a decoder would silently complete: truncated or corrupt JPEG scans.

OpenCV's ``imdecode`` (libjpeg) treats a JPEG whose entropy-coded data ends
early, or holds garbage, as a *warning*: it fills the missing blocks and
returns an image. A file cut to 10% with its end marker put back, or a header
patched to claim 8900x8900 pixels, is then scored like a whole image. PNG,
BMP and TIFF need no such check: their decoders fail on the same damage.

:func:`check_jpeg` decodes the scan once with libjpeg-turbo through
``simplejpeg`` with warnings as errors, at 1/8 scale (every coefficient is
still entropy-decoded, so every truncation or corruption warning still fires,
while the inverse DCT costs little). It changes no process-wide state.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ImageDecodeError

JPEG_SOI = b"\xff\xd8"


def check_jpeg(path: Path, data: bytes) -> None:
    """Raise :class:`ImageDecodeError` (``truncated``) when a JPEG's scan data is incomplete.

    A JPEG that libjpeg-turbo cannot decode at all here (an unsupported
    precision or colour conversion) is left to the full decoder to judge.
    """
    if not data.startswith(JPEG_SOI):
        return
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_factor=8, strict=True)
        return
    except ValueError as exc:
        warning = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:  # fatal here as well: not a warning, so not ours to judge
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_factor=8, strict=False)
    except (ValueError, RuntimeError):
        return
    raise ImageDecodeError(str(path), f"corrupt or truncated JPEG data ({warning})",
                           kind="truncated")
