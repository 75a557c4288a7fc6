"""Guards applied before any pixel is decoded: pixel count and file size."""

from __future__ import annotations

from pathlib import Path

from ..errors import ImageDecodeError

DEFAULT_MAX_PIXELS = 80_000_000
DEFAULT_MAX_BYTES = 512 * 1024 * 1024  # no chest X-ray file is near this; /dev/zero is


def check_pixel_count(path: Path, width: int, height: int, max_pixels: int) -> None:
    """Refuse an image whose header claims more than ``max_pixels`` pixels."""
    if width <= 0 or height <= 0:
        raise ImageDecodeError(str(path), f"header claims an empty {width}x{height} image",
                               kind="not-an-image")
    if width * height > max_pixels:
        raise ImageDecodeError(
            str(path), f"too large: header claims {width}x{height} pixels "
            f"(limit {max_pixels:,})", kind="too-large",
            hint="raise the limit (max_pixels) only for files you trust",
        )
