"""Which files are images: suffixes and magic bytes. Imports no decoder."""

from __future__ import annotations

from pathlib import Path

RASTER_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic"})
IMAGE_SUFFIXES = RASTER_SUFFIXES | DICOM_SUFFIXES

_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"),
          (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))


def is_dicom(path: Path, head: bytes) -> bool:
    """True for a ``.dcm`` name or a DICOM preamble (``DICM`` at byte 128)."""
    return path.suffix.lower() in DICOM_SUFFIXES or head[128:132] == b"DICM"


def format_of(data: bytes) -> str | None:
    """The raster format named by the file's magic bytes, if any."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return None
