"""Small thumbnails of a run's images, for embedding in the report as data URIs.

Each file is decoded by :func:`bamnet_core.imaging.decode.decode_image` (the
decoding training used, with its size and pixel limits), shrunk to at most
``SIZE`` pixels on its longer side and encoded as a JPEG, so a dozen
thumbnails add a few tens of kilobytes to the page. A file that no longer
decodes (moved, deleted, damaged) gives the reason instead of an image.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageDecodeError
from ..imaging.decode import decode_image

SIZE = 96
QUALITY = 85


@dataclass(frozen=True)
class Thumbnail:
    """A thumbnail as a ``data:`` URI with its size, or the reason there is none."""

    uri: str | None
    width: int = 0
    height: int = 0
    problem: str | None = None


def thumbnail(path: str | Path, size: int = SIZE) -> Thumbnail:
    """Decode ``path`` and return it at most ``size`` pixels wide and high, as a JPEG URI."""
    try:
        gray = decode_image(path)
    except ImageDecodeError as exc:
        return Thumbnail(None, problem=exc.reason)
    h, w = gray.shape[:2]
    scale = min(1.0, size / max(h, w))
    width, height = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)
    pixels = np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    if not ok:  # pragma: no cover - encoding a small uint8 array does not fail
        return Thumbnail(None, problem="could not encode a thumbnail")
    data = base64.b64encode(buf.tobytes()).decode("ascii")
    return Thumbnail(f"data:image/jpeg;base64,{data}", width, height)


def thumbnail_cell(thumb: Thumbnail, alt: str) -> str:
    """The thumbnail as an ``<img>``, or a grey placeholder box saying why there is none."""
    if thumb.uri is None:
        return (f'<div class="thumb missing" title="{escape(thumb.problem or "")}">'
                f"not readable<br><small>{escape(thumb.problem or '')}</small></div>")
    return (f'<img class="thumb" alt="{escape(alt)}" width="{thumb.width}" '
            f'height="{thumb.height}" src="{thumb.uri}">')
