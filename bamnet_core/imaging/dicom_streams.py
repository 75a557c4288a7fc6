"""The image size a compressed frame declares in its own header, read before decoding.

A codec allocates what its codestream declares, not what the DICOM header
says. :func:`declared_size` reads the size from the JPEG (SOF), JPEG-LS (SOF55)
and JPEG 2000 (SIZ) markers, so that a frame claiming more than the DICOM
header allows is refused before a decoder sees it.
"""

from __future__ import annotations

import struct

from .jpeg_markers import SOF, BrokenChain, header_segments

_SCAN_LIMIT = 1 << 20  # markers before the frame header are short; never walk a whole frame


def declared_size(frame: bytes) -> tuple[int, int] | None:
    """``(rows, columns)`` the frame's codestream declares, or None when it is not one we read."""
    if frame[:4] == b"\xff\x4f\xff\x51":  # JPEG 2000 codestream: SOC then SIZ
        return _j2k_size(frame, 4)
    if frame[4:8] == b"jP  " or frame[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n":
        at = frame.find(b"\xff\x4f\xff\x51", 0, _SCAN_LIMIT)  # JP2 wrapper: find the codestream
        return _j2k_size(frame, at + 4) if at >= 0 else None
    if frame[:2] == b"\xff\xd8":
        return _jpeg_size(frame)
    return None


def _j2k_size(frame: bytes, at: int) -> tuple[int, int] | None:
    """SIZ: Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz (image size = Xsiz - XOsiz)."""
    if len(frame) < at + 20:
        return None
    xsiz, ysiz, xo, yo = struct.unpack(">IIII", frame[at + 4:at + 20])
    return (ysiz - yo, xsiz - xo) if xsiz >= xo and ysiz >= yo else None


def _jpeg_size(frame: bytes) -> tuple[int, int] | None:
    """Walk the markers after SOI to the first start-of-frame: its height and width."""
    try:
        for segment in header_segments(frame, _SCAN_LIMIT):
            if segment.marker in SOF:
                if len(segment.payload) < 5:
                    return None
                height, width = struct.unpack(">HH", segment.payload[1:5])
                return height, width
    except BrokenChain:
        return None
    return None
