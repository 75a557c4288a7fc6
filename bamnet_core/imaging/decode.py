"""Decode any image a radiology folder holds into grayscale float32 in [0, 1].

:func:`decode_image` turns a file (JPEG, PNG, BMP, TIFF, DICOM) into an
array, or raises :class:`ImageDecodeError` naming the file and the reason.
Files are opened without blocking and checked with ``fstat`` before a byte is
read: a FIFO, a device or a socket is refused at once, and so is a file larger
than ``max_bytes``, so a folder can never hang or exhaust memory.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import ImageDecodeError
from .codestreams import check_codestream
from .formats import format_of, is_dicom
from .integrity import decode_jpeg
from .limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, check_pixel_count
from .preprocess import PreprocessSpec
from .properties import describe

# Bumped whenever the pixels decoded from some file change, so that caches keyed by a file's
# bytes (decoded images, properties) miss instead of serving the old pixels.
# 2: DICOM palettes, VOI LUT on modality values, first frame only, JPEG 2000 colour.
# 3: JPEG pixels from the strict libjpeg-turbo decode that also checks the scan (the same
#    pixels as OpenCV's on every real JPEG tried; bumped in case some build differs).
# 4: a codestream with a frame header the first check missed (after 1 MiB, after a scan, a
#    JPEG 2000 component count) is refused: a cache must not keep serving its pixels.
DECODER_VERSION = 4


def decode_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Decode one file to a float32 grayscale array in [0, 1].

    :param path: the image file (JPEG, PNG, BMP, TIFF or DICOM).
    :param max_pixels: refuse images claiming more pixels than this, before
        decoding them (decompression-bomb guard).
    :param max_bytes: refuse files larger than this, before reading them.
    :raises ImageDecodeError: naming the path and the reason; ``kind`` says
        which of the kinds :class:`~bamnet_core.errors.ImageDecodeError`
        lists it was.
    """
    p = Path(path)
    return decode_bytes(p, read_image_bytes(p, max_bytes=max_bytes), max_pixels=max_pixels)


def read_image_bytes(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a regular file's bytes; refuse anything else before reading a byte.

    The file is opened with ``O_NONBLOCK``, so opening a FIFO never waits for
    a writer, and ``fstat`` on the open descriptor decides: only a regular
    file of at most ``max_bytes`` is read. Every OS failure becomes an
    :class:`ImageDecodeError`.
    """
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ImageDecodeError(where, "file not found") from None
    except IsADirectoryError:
        raise ImageDecodeError(where, "is a directory, not an image", kind="not-an-image") from None
    except OSError as exc:
        raise ImageDecodeError(where, f"unreadable: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImageDecodeError(where, "is a directory, not an image", kind="not-an-image")
        if not stat.S_ISREG(info.st_mode):
            raise ImageDecodeError(where, f"not a regular file ({_file_kind(info.st_mode)})",
                                   kind="not-a-file")
        if info.st_size > max_bytes:
            raise ImageDecodeError(where, f"too large: {info.st_size:,} bytes (limit "
                                   f"{max_bytes:,})", kind="too-large",
                                   hint="raise the size limit only for files you trust")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            data = fh.read(max_bytes + 1)  # bounded even if the file grows meanwhile
    except OSError as exc:
        raise ImageDecodeError(where, f"unreadable: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise ImageDecodeError(where, f"too large: over {max_bytes:,} bytes", kind="too-large")
    return data


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"


def decode_bytes(path: Path, data: bytes, *,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode the bytes of ``path`` (already read) like :func:`decode_image`."""
    return _decode(path, data, max_pixels, described=False)[0]


def decode_described(path: Path, data: bytes, *,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, dict[str, Any]]:
    """Decode like :func:`decode_bytes` and describe the image while its pixels are at hand.

    :returns: the grayscale image and its properties
        (:func:`bamnet_core.imaging.properties.describe`).
    """
    gray, props = _decode(path, data, max_pixels, described=True)
    assert props is not None
    return gray, props


def _decode(path: Path, data: bytes, max_pixels: int, *,
            described: bool) -> tuple[np.ndarray, dict[str, Any] | None]:
    if not data:
        raise ImageDecodeError(str(path), "empty file (0 bytes)", kind="empty")
    if is_dicom(path, data[:132]):
        named_only = data[128:132] != b"DICM" and format_of(data)
        if named_only:  # pydicom would read it as a dataset of junk tags, "no pixel data"
            raise ImageDecodeError(str(path), f"not a DICOM file: its bytes are a {named_only} "
                                   f"image, named {path.suffix}", kind="not-an-image",
                                   hint=f"rename it to the suffix of a {named_only} file")
        from .dicom import decode_dicom_described  # pydicom only for DICOM files

        gray, info = decode_dicom_described(path, data, max_pixels)
        if not described:
            return gray, None
        return gray, describe(gray, raw=None, data=data, fmt="dicom",
                              bit_depth=info.pop("bit_depth"), tags=info)
    try:
        raw = _decode_raster(path, data, max_pixels)
        gray = to_unit_gray(raw)
        if not described:
            return gray, None
        fmt = (format_of(data) or path.suffix.lstrip(".") or "unknown").lower()
        return gray, describe(gray, raw=raw, data=data, fmt=fmt)
    except ImageDecodeError:
        raise
    except Exception as exc:  # a decoder bug must stay a per-file error
        raise ImageDecodeError(str(path), f"unreadable: {type(exc).__name__}: {exc}") from None


def _raster_size(path: Path, data: bytes, max_pixels: int) -> tuple[int, int] | None:
    """Width and height from the header alone, without decoding pixels."""
    from PIL import Image  # header parser only; never decodes pixels

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return im.size
    except Image.DecompressionBombError:  # Pillow's own guard, looser than ours
        claimed = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise ImageDecodeError(str(path), f"too large: header claims over {claimed:,} pixels "
                               f"(limit {max_pixels:,})", kind="too-large") from None
    except Exception:
        return None


def _decode_raster(path: Path, data: bytes, max_pixels: int) -> np.ndarray:
    size = _raster_size(path, data, max_pixels)
    if size is None:
        fmt = format_of(data)
        if fmt is not None:
            raise ImageDecodeError(str(path), f"truncated or corrupt {fmt} header "
                                   f"({len(data):,} bytes)", kind="truncated")
        raise ImageDecodeError(str(path), "not an image (no known image format signature)",
                               kind="not-an-image")
    width, height = size
    check_pixel_count(path, width, height, max_pixels)
    # the header parser read one frame header; the decoder must not meet another
    check_codestream(path, data, max_pixels=max_pixels, expected=None, what="codestream")
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-4096:]:
        raise ImageDecodeError(str(path), "truncated JPEG (no end-of-image marker)",
                               kind="truncated")
    image = decode_jpeg(path, data)  # libjpeg completes a damaged scan with a mere warning
    if image is not None:
        return image
    buf = np.frombuffer(data, dtype=np.uint8)
    # ANYDEPTH|ANYCOLOR keeps 16-bit samples and applies the EXIF orientation
    image = cv2.imdecode(buf, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if image is None or image.size == 0:
        raise ImageDecodeError(str(path), "corrupt or truncated image data", kind="truncated")
    return image


def to_unit_gray(image: np.ndarray) -> np.ndarray:
    """Any OpenCV image (gray/BGR/BGRA, 8/16-bit/float) -> float32 gray in [0, 1].

    Alpha is dropped (transparent pixels keep their colour values), colour is
    converted with the ITU-R 601 luma weights.
    """
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3:
        image = image[..., 0]
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    image = np.nan_to_num(image.astype(np.float32))
    lo, hi = float(image.min()), float(image.max())
    return (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)


def load_input(path: str | Path, spec: PreprocessSpec, *,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode and preprocess one file into model input."""
    return spec.apply(decode_image(path, max_pixels=max_pixels))
