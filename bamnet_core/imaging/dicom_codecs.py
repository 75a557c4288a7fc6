"""Decode one frame of DICOM pixel data, naming the codec when it cannot.

bamnet depends on decoders whose licences fit Apache-2.0: ``pylibjpeg`` with
``pylibjpeg-openjpeg`` (JPEG 2000, MIT), ``pyjpegls`` (JPEG-LS, MIT) and
``python-gdcm`` (JPEG Lossless, 12-bit JPEG, BSD). pydicom picks among them.
Only the frame that is used (the first) is decoded.

A transfer syntax no installed decoder handles is an ``unsupported-compression``
error that names the syntax and the package that would decode it; a decoder
that fails on the data is a ``codec-error``. Neither is called "truncated".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageDecodeError
from .codestreams import Geometry, check_codestream

# transfer syntax UID -> (short name, the packages that decode it)
_GDCM = "python-gdcm"
CODECS: dict[str, tuple[str, str]] = {
    "1.2.840.10008.1.2.4.50": ("JPEG Baseline", "pillow or python-gdcm"),
    "1.2.840.10008.1.2.4.51": ("JPEG Extended (12-bit)", _GDCM),
    "1.2.840.10008.1.2.4.57": ("JPEG Lossless (process 14)", _GDCM),
    "1.2.840.10008.1.2.4.70": ("JPEG Lossless (process 14, SV1)", _GDCM),
    "1.2.840.10008.1.2.4.80": ("JPEG-LS Lossless", "pyjpegls or python-gdcm"),
    "1.2.840.10008.1.2.4.81": ("JPEG-LS Near-Lossless", "pyjpegls or python-gdcm"),
    "1.2.840.10008.1.2.4.90": ("JPEG 2000 Lossless", "pylibjpeg-openjpeg or python-gdcm"),
    "1.2.840.10008.1.2.4.91": ("JPEG 2000", "pylibjpeg-openjpeg or python-gdcm"),
    "1.2.840.10008.1.2.4.201": ("HTJ2K Lossless", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.202": ("HTJ2K Lossless RPCL", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.203": ("HTJ2K", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.5": ("RLE Lossless", "pydicom"),
}
_JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"


def syntax_name(uid: str) -> str:
    """A short name for a transfer syntax (``"JPEG-LS Lossless"``), else the UID's own name."""
    from pydicom.uid import UID

    if uid in CODECS:
        return CODECS[uid][0]
    name = UID(uid).name
    return name if name and name != uid else f"transfer syntax {uid}"


def decode_first_frame(path: Path, ds: Any) -> np.ndarray:
    """The first frame's stored values, colour converted to RGB (``YBR_*`` -> ``RGB``).

    :raises ImageDecodeError: ``unsupported-compression`` or ``codec-error``.
    """
    from pydicom.pixels import get_decoder

    uid = str(ds.file_meta.TransferSyntaxUID)
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        raise _unsupported(path, uid) from None
    check_frame_size(path, ds, uid)
    if uid == _JPEG_EXTENDED and int(ds.get("BitsStored", 8) or 8) > 8:
        return _gdcm_jpeg12(path, ds)
    if not decoder.is_available:
        raise _unsupported(path, uid)
    try:
        ds.pixel_array_options(index=0, as_rgb=True)
        return ds.pixel_array
    except Exception as exc:
        raise ImageDecodeError(
            str(path), f"{syntax_name(uid)} pixel data could not be decoded: {_reason(exc)}",
            kind="codec-error") from None


def check_frame_size(path: Path, ds: Any, uid: str) -> None:
    """Refuse a compressed first frame whose codestream declares another geometry than the
    header (rows, columns, samples per pixel), wherever in the frame it declares it.

    A decoder allocates what the codestream declares, so this runs before any decoder does;
    the header's geometry has been held against ``max_pixels`` already.
    """
    from pydicom.encaps import get_frame
    from pydicom.uid import UID

    if not UID(uid).is_encapsulated or uid == "1.2.840.10008.1.2.5":  # RLE: sized by the header
        return
    try:
        frame = get_frame(ds.PixelData, 0, number_of_frames=int(ds.get("NumberOfFrames", 1)
                                                                 or 1))
    except Exception as exc:
        raise ImageDecodeError(str(path), f"{syntax_name(uid)} pixel data has no readable "
                               f"first frame: {_reason(exc)}", kind="codec-error") from None
    header = Geometry(int(ds.Rows), int(ds.Columns), int(ds.get("SamplesPerPixel", 1) or 1))
    check_codestream(path, bytes(frame), max_pixels=header.rows * header.columns,
                     expected=header, what=f"{syntax_name(uid)} codestream")


def _unsupported(path: Path, uid: str) -> ImageDecodeError:
    package = CODECS.get(uid, ("", ""))[1]
    hint = (f"install {package} (pip install {package.split(' or ')[0]})" if package
            else "convert the file to an uncompressed or JPEG 2000 transfer syntax")
    return ImageDecodeError(str(path), f"unsupported compression: {syntax_name(uid)} "
                            f"({uid}); no installed decoder reads it; {hint}",
                            kind="unsupported-compression", hint=hint)


def _gdcm_jpeg12(path: Path, ds: Any) -> np.ndarray:
    """12-bit JPEG Extended through GDCM directly (pydicom's GDCM plugin declines it).

    GDCM's 12-bit IJG codec gives the same values as libjpeg-turbo on these
    streams (checked in the tests when ``imagecodecs`` is installed).
    """
    from pydicom.encaps import get_frame

    try:
        import gdcm
    except ImportError:
        raise _unsupported(path, _JPEG_EXTENDED) from None
    rows, cols = int(ds.Rows), int(ds.Columns)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    bits = int(ds.BitsStored)
    signed = int(ds.get("PixelRepresentation", 0) or 0)
    try:
        src = get_frame(ds.PixelData, 0, number_of_frames=frames)
        fragment = gdcm.Fragment()
        fragment.SetByteStringValue(src)
        fragments = gdcm.SequenceOfFragments.New()
        fragments.AddFragment(fragment)
        element = gdcm.DataElement(gdcm.Tag(0x7FE0, 0x0010))
        element.SetValue(fragments.__ref__())
        image = gdcm.Image()
        image.SetNumberOfDimensions(2)
        image.SetDimensions((cols, rows, 1))
        image.SetDataElement(element)
        kind = gdcm.PhotometricInterpretation.GetPIType(str(ds.PhotometricInterpretation))
        image.SetPhotometricInterpretation(gdcm.PhotometricInterpretation(kind))
        image.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGExtendedProcess2_4))
        image.SetPixelFormat(gdcm.PixelFormat(samples, 16, bits, bits - 1, signed))
        warned, erred = gdcm.Trace.GetWarningFlag(), gdcm.Trace.GetErrorFlag()
        gdcm.Trace.WarningOff()  # it reports trying the 8-bit codec first
        gdcm.Trace.ErrorOff()
        try:
            raw = image.GetBuffer().encode("utf-8", "surrogateescape")
        finally:
            gdcm.Trace.SetWarning(warned)
            gdcm.Trace.SetError(erred)
    except Exception as exc:
        raise ImageDecodeError(str(path), f"JPEG Extended (12-bit) pixel data could not be "
                               f"decoded: {_reason(exc)}", kind="codec-error") from None
    need = rows * cols * samples
    if len(raw) < 2 * need:
        raise ImageDecodeError(str(path), "JPEG Extended (12-bit) pixel data could not be "
                               f"decoded: GDCM returned {len(raw):,} of {2 * need:,} bytes",
                               kind="codec-error")
    pixels = np.frombuffer(raw[:2 * need], dtype="<i2" if signed else "<u2")
    return pixels.reshape((rows, cols, samples) if samples > 1 else (rows, cols)).copy()


def _reason(exc: BaseException) -> str:
    """One line from a decoder's exception (pydicom lists one line per plugin)."""
    lines = [" ".join(line.split()) for line in str(exc).splitlines() if line.strip()]
    text = "; ".join(lines[1:] if len(lines) > 1 else lines) or type(exc).__name__
    return text[:300]
