"""Read a DICOM dataset with its memory bounded by what the header declares.

Before any pixel is decoded, :func:`read_dataset` checks what the file
claims: rows x columns x frames x samples against ``max_pixels``, and for
uncompressed pixel data, that ``PixelData`` holds exactly the bytes that
geometry needs. A Deflated dataset is inflated in two bounded steps: the
header (at most :data:`HEADER_LIMIT` bytes), then no more than the declared
geometry allows, so a small file cannot inflate to gigabytes.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path
from typing import Any

from ..errors import ImageDecodeError
from .limits import check_pixel_count

HEADER_LIMIT = 16 * 1024 * 1024  # inflated bytes allowed before PixelData
_SLACK = 64 * 1024  # inflated bytes allowed past the declared pixel data (trailing tags)
_DEFLATED = "1.2.840.10008.1.2.1.99"
_PIXEL_TAG_LE, _PIXEL_TAG_BE = b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10"


def read_dataset(path: Path, data: bytes, max_pixels: int) -> Any:
    """The dataset in ``data``, its geometry checked against ``max_pixels``.

    :returns: a ``pydicom`` ``FileDataset`` whose pixel data is not yet decoded.
    :raises ImageDecodeError: unreadable, no pixel data (``no-pixels``), a
        geometry over the limit (``too-large``), or pixel data whose length
        disagrees with the geometry (``truncated`` / ``corrupt``).
    """
    import pydicom
    from pydicom.filereader import _read_file_meta_info, read_preamble

    where = str(path)
    stream = io.BytesIO(data)
    try:
        preamble = read_preamble(stream, force=True)
        meta = _read_meta(stream, _read_file_meta_info)  # pydicom 3 (pinned <4)
        body_at = stream.tell()
        syntax = str(meta.get("TransferSyntaxUID", "") or "")
        if syntax == _DEFLATED:
            ds = _read_deflated(path, data[body_at:], meta, preamble, max_pixels)
        else:
            ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except ImageDecodeError:
        raise
    except Exception as exc:
        raise ImageDecodeError(where, f"unreadable DICOM: {exception_text(exc)}") from None
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise _without_pixels(where, ds, data)
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        # files without a meta header: guess the commonest encoding rather than fail
        ds.file_meta = getattr(ds, "file_meta", pydicom.dataset.FileMetaDataset())
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    check_geometry(path, ds, max_pixels)
    check_native_length(path, ds)
    return ds


def read_header(path: Path, data: bytes | None = None) -> Any:
    """The tags of a DICOM file before its pixel data; pixels are never read.

    Values over 64 KiB are not read; a Deflated file is inflated only up to
    :data:`HEADER_LIMIT` bytes.

    :param data: the file's bytes when the caller already holds them (the file
        is then not opened).

    :raises ImageDecodeError: the file cannot be opened or parsed as DICOM.
    """
    import pydicom
    from pydicom.filereader import _read_file_meta_info, read_preamble

    try:
        with (io.BytesIO(data) if data is not None else open(path, "rb")) as fh:
            preamble = read_preamble(fh, force=True)
            meta = _read_meta(fh, _read_file_meta_info)
            if str(meta.get("TransferSyntaxUID", "") or "") != _DEFLATED:
                fh.seek(0)  # large values (private blobs before the pixels) are not loaded
                return pydicom.dcmread(fh, force=True, stop_before_pixels=True,
                                       defer_size=1 << 16)
            head = zlib.decompressobj(-zlib.MAX_WBITS).decompress(fh.read(HEADER_LIMIT),
                                                                  HEADER_LIMIT)
        from pydicom.dataset import FileDataset
        from pydicom.filereader import read_dataset as read_body

        header = read_body(io.BytesIO(head), is_implicit_VR=False, is_little_endian=True,
                           stop_when=_at_pixels)
        return FileDataset(str(path), header, file_meta=meta, preamble=preamble)
    except OSError as exc:
        raise ImageDecodeError(str(path), f"unreadable: {exc.strerror or exc}") from None
    except Exception as exc:
        raise ImageDecodeError(str(path), f"unreadable DICOM: {exception_text(exc)}") from None


def _without_pixels(where: str, ds: Any, data: bytes) -> ImageDecodeError:
    """Why a dataset has no pixel data: not DICOM, cut short, or truly none."""
    if _PIXEL_TAG_LE in data or _PIXEL_TAG_BE in data:  # the element starts, then the file ends
        return ImageDecodeError(where, "truncated DICOM: its pixel data element could not be "
                                "read (the file ends inside it, or the tags before it are "
                                "damaged)", kind="truncated")
    if len(ds) == 0:
        return ImageDecodeError(where, "not a DICOM file (no DICOM tags could be read)",
                                kind="not-an-image")
    return ImageDecodeError(where, "DICOM has no pixel data (not an image object)",
                            kind="no-pixels")


def _read_meta(stream: Any, reader: Any) -> Any:
    """The file meta group, or an empty one for files written without it."""
    start = stream.tell()
    try:
        return reader(stream)
    except Exception:
        stream.seek(start)
        from pydicom.dataset import FileMetaDataset

        return FileMetaDataset()


def geometry(ds: Any) -> tuple[int, int, int, int]:
    """``(rows, columns, frames, samples per pixel)`` as the header declares them."""
    def number(keyword: str, default: int) -> int:
        value = ds.get(keyword, default)
        try:
            return int(value if value not in (None, "") else default)
        except (TypeError, ValueError):
            return -1
    return (number("Rows", 0), number("Columns", 0), number("NumberOfFrames", 1),
            number("SamplesPerPixel", 1))


def check_geometry(path: Path, ds: Any, max_pixels: int) -> None:
    """Refuse a declared geometry that is empty, malformed or over ``max_pixels`` in all."""
    rows, cols, frames, samples = geometry(ds)
    check_pixel_count(path, cols, rows, max_pixels)
    if frames < 1 or samples not in (1, 3, 4):
        raise ImageDecodeError(str(path), f"header declares {frames} frames of {samples} "
                               "samples per pixel", kind="not-an-image")
    total = rows * cols * frames * samples
    if total > max_pixels:
        raise ImageDecodeError(
            str(path), f"too large: header declares {rows}x{cols} pixels x {frames} frames x "
            f"{samples} samples = {total:,} values (limit {max_pixels:,})", kind="too-large",
            hint="raise the limit (max_pixels) only for files you trust")


def native_bytes(ds: Any) -> int:
    """The bytes uncompressed ``PixelData`` needs for the declared geometry."""
    rows, cols, frames, samples = geometry(ds)
    bits = int(ds.get("BitsAllocated", 16) or 16)
    if bits == 1:
        return (rows * cols * frames * samples + 7) // 8
    values = rows * cols * frames * samples
    if str(ds.get("PhotometricInterpretation", "")).strip().upper() == "YBR_FULL_422":
        values = values * 2 // 3  # two chroma samples are shared by each pair of pixels
    return values * (bits // 8)


def check_native_length(path: Path, ds: Any) -> None:
    """Uncompressed pixel data must hold the declared geometry, and less than a frame more.

    Shorter is truncated; a whole frame or more beyond the declared frames
    means the header and the data disagree. Trailing padding is tolerated.
    """
    from pydicom.uid import UID

    syntax = UID(str(ds.file_meta.TransferSyntaxUID))
    if "PixelData" not in ds or (syntax.is_compressed and syntax != _DEFLATED):
        return
    have, need = len(ds.PixelData), native_bytes(ds)
    if have < need:
        raise ImageDecodeError(str(path), f"truncated DICOM: PixelData holds {have:,} bytes, "
                               f"the declared geometry needs {need:,}", kind="truncated")
    frame = max(1, need // max(1, geometry(ds)[2]))
    if have >= need + frame:
        raise ImageDecodeError(str(path), f"corrupt DICOM: PixelData holds {have:,} bytes, "
                               f"more than the {need:,} its declared geometry needs",
                               kind="corrupt")


def _read_deflated(path: Path, body: bytes, meta: Any, preamble: bytes | None,
                   max_pixels: int) -> Any:
    """Inflate a Deflated dataset within bounds set by its own header."""
    from pydicom.dataset import FileDataset
    from pydicom.filereader import read_dataset as read_body

    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        head = inflater.decompress(body, HEADER_LIMIT)
        header = read_body(io.BytesIO(head), is_implicit_VR=False, is_little_endian=True,
                           stop_when=_at_pixels)
    except zlib.error as exc:
        raise ImageDecodeError(str(path), f"corrupt Deflated DICOM: {exc}",
                               kind="corrupt") from None
    if "Rows" not in header and inflater.unconsumed_tail:
        raise ImageDecodeError(str(path), "Deflated DICOM header inflates past "
                               f"{HEADER_LIMIT:,} bytes before its pixel data",
                               kind="too-large")
    shell = FileDataset(str(path), header, file_meta=meta, preamble=preamble)
    check_geometry(path, shell, max_pixels)
    allowed = HEADER_LIMIT + native_bytes(shell) + _SLACK
    rest = inflater.decompress(inflater.unconsumed_tail, allowed - len(head))
    if inflater.unconsumed_tail:
        raise ImageDecodeError(str(path), "Deflated DICOM inflates past what its declared "
                               f"geometry needs ({allowed:,} bytes)", kind="too-large")
    full = read_body(io.BytesIO(head + rest), is_implicit_VR=False, is_little_endian=True)
    return FileDataset(str(path), full, file_meta=meta, preamble=preamble)


def _at_pixels(tag: Any, vr: Any, length: int) -> bool:
    return int(tag) in (0x7FE00010, 0x7FE00008, 0x7FE00009)


def exception_text(exc: BaseException) -> str:
    """A decoder's exception as one line of at most 300 characters (its type when empty)."""
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__
