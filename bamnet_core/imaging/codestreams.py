"""The geometry a compressed codestream declares, read whole before any decoder runs.

A decoder allocates what its codestream declares (rows, columns, components),
not what a file's header says. :func:`declared_geometry` reads every
start-of-frame of a JPEG or JPEG-LS stream wherever it sits (behind megabytes
of application segments, after a scan, behind garbage a decoder would skip),
the JPEG-LS oversize dimensions (LSE ID 4), and a JPEG 2000 codestream's SIZ
(components and tiles included), inside a JP2 wrapper too. A stream whose
frames disagree, or whose SIZ cannot be right, is refused as such;
:func:`check_codestream` then holds the geometry against what the caller knows
(the DICOM header, the raster header) and against ``max_pixels``.

With these checks a decoder only ever receives a stream that declares the
header's own geometry, which ``max_pixels`` bounds, so the memory of one
decode is bounded by the header (see ``docs/data.md``, "Memory per file").
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple

from ..errors import ImageDecodeError
from .jpeg_markers import LSE, SOF, stream_segments

MAX_TILES = 65535  # Isot, a tile's index, is 16 bits: no valid codestream has more
MAX_COMPONENTS = 4  # gray, gray+alpha, RGB, RGBA: more is no image this tool reads
_SOC_SIZ = b"\xff\x4f\xff\x51"
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


class Geometry(NamedTuple):
    """What a codestream declares: rows, columns and components (samples per pixel)."""

    rows: int
    columns: int
    components: int


class BadCodestream(ValueError):
    """The codestream's own header cannot be right (frames that disagree, a broken SIZ)."""


def declared_geometry(stream: bytes) -> Geometry | None:
    """The geometry ``stream`` declares, or None when it is no codestream read here.

    :raises BadCodestream: naming what in the stream cannot be right.
    """
    if stream[:4] == _SOC_SIZ:
        return _siz(stream, 2)
    if stream[:12] == _JP2_SIGNATURE:
        return _siz(stream, _jp2_codestream(stream) + 2)
    if stream[:2] == b"\xff\xd8":
        return _jpeg(stream)
    return None


def check_codestream(path: Path, stream: bytes, *, max_pixels: int, expected: Geometry | None,
                     what: str) -> None:
    """Refuse ``stream`` before decoding when its geometry is not the one expected.

    :param expected: the geometry the file's header gives (the DICOM Rows,
        Columns and Samples per Pixel), or None to check only the stream's own
        consistency, ``max_pixels`` and :data:`MAX_COMPONENTS`.
    :param what: how the message names the stream (``"JPEG 2000 Lossless codestream"``).
    :raises ImageDecodeError: (``corrupt`` or ``too-large``) naming ``path``.
    """
    try:
        declared = declared_geometry(stream)
    except BadCodestream as exc:
        raise ImageDecodeError(str(path), f"corrupt {what}: {exc}", kind="corrupt") from None
    if declared is None:
        return
    rows, columns, components = declared
    if expected is not None and (rows, columns) != expected[:2]:
        raise ImageDecodeError(str(path), f"corrupt DICOM: the {what} declares {columns}x{rows} "
                               f"pixels, the header {expected.columns}x{expected.rows}",
                               kind="corrupt")
    if expected is not None and components != expected.components:
        raise ImageDecodeError(str(path), f"corrupt DICOM: the {what} declares {components} "
                               f"components, the header {expected.components} samples per "
                               "pixel", kind="corrupt")
    if components > MAX_COMPONENTS:
        raise ImageDecodeError(str(path), f"corrupt {what}: it declares {components} components "
                               f"(an image has at most {MAX_COMPONENTS})", kind="corrupt")
    if rows * columns > max_pixels:
        raise ImageDecodeError(str(path), f"too large: the {what} declares {columns}x{rows} "
                               f"pixels (limit {max_pixels:,})", kind="too-large",
                               hint="raise the limit (max_pixels) only for files you trust")


def _jpeg(stream: bytes) -> Geometry | None:
    """Every SOF (and JPEG-LS's LSE ID 4) in the stream; they must all agree."""
    frames: set[Geometry] = set()
    oversize: Geometry | None = None
    for segment in stream_segments(stream):
        payload = segment.payload
        if segment.marker in SOF:
            if len(payload) < 6:
                raise BadCodestream(f"the frame header at byte {segment.at} is cut short")
            rows, columns = struct.unpack(">HH", payload[1:5])
            frames.add(Geometry(rows, columns, payload[5]))
        elif segment.marker == LSE and payload[:1] == b"\x04" and len(payload) >= 2:
            width = payload[1]  # bytes per dimension
            if width == 0 or len(payload) < 2 + 2 * width:
                raise BadCodestream(f"the oversize dimensions at byte {segment.at} are cut short")
            oversize = Geometry(int.from_bytes(payload[2:2 + width], "big"),
                                int.from_bytes(payload[2 + width:2 + 2 * width], "big"), 0)
    if not frames:
        return None
    if len(frames) > 1:
        sizes = ", ".join(f"{g.columns}x{g.rows}x{g.components}" for g in sorted(frames))
        raise BadCodestream(f"its frame headers disagree ({sizes})")
    frame = frames.pop()
    if oversize is not None:  # JPEG-LS: a frame header's 0 means "see LSE"
        frame = Geometry(oversize.rows if frame.rows == 0 else frame.rows,
                         oversize.columns if frame.columns == 0 else frame.columns,
                         frame.components)
    if frame.rows == 0 or frame.columns == 0:
        raise BadCodestream(f"its frame declares {frame.columns}x{frame.rows} pixels (a size "
                            "given later in the stream is not read)")
    if frame.components == 0:
        raise BadCodestream("its frame declares no component")
    return frame


def _jp2_codestream(stream: bytes) -> int:
    """Where the codestream box's content starts in a JP2 file (its boxes walked, not searched)."""
    at = 0
    while at + 8 <= len(stream):
        size, kind = struct.unpack(">I4s", stream[at:at + 8])
        header = 8
        if size == 1:
            if at + 16 > len(stream):
                break
            size, header = struct.unpack(">Q", stream[at + 8:at + 16])[0], 16
        if kind == b"jp2c":
            if stream[at + header:at + header + 4] != _SOC_SIZ:
                raise BadCodestream("its codestream box does not start with SOC and SIZ")
            return at + header
        if size == 0 or size < header:
            break
        at += size
    raise BadCodestream("it has no codestream box")


def _siz(stream: bytes, at: int) -> Geometry:
    """SIZ at ``at`` (its marker): size, tiles and components, each checked."""
    if len(stream) < at + 40:
        raise BadCodestream("its SIZ segment is cut short")
    (lsiz, _rsiz, xsiz, ysiz, xo, yo, xt, yt, xto, yto,
     csiz) = struct.unpack(">HHIIIIIIIIH", stream[at + 2:at + 40])
    if not 1 <= csiz <= 16384 or lsiz != 38 + 3 * csiz or len(stream) < at + 2 + lsiz:
        raise BadCodestream(f"its SIZ segment (length {lsiz}) does not hold the {csiz} "
                            "components it declares")
    if xsiz <= xo or ysiz <= yo or xt == 0 or yt == 0 or xto > xo or yto > yo \
            or xto + xt <= xo or yto + yt <= yo:
        raise BadCodestream(f"its SIZ declares an impossible image or tile grid "
                            f"({xsiz}x{ysiz} from {xo},{yo}; tiles {xt}x{yt} from {xto},{yto})")
    tiles = -(-(xsiz - xto) // xt) * -(-(ysiz - yto) // yt)
    if tiles > MAX_TILES:
        raise BadCodestream(f"its SIZ declares {tiles:,} tiles (at most {MAX_TILES:,} exist)")
    for k in range(csiz):
        xr, yr = stream[at + 41 + 3 * k], stream[at + 42 + 3 * k]
        if xr == 0 or yr == 0:
            raise BadCodestream(f"its SIZ gives component {k} a subsampling of 0")
    return Geometry(ysiz - yo, xsiz - xo, csiz)
