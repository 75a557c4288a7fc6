"""The image size a compressed frame declares in its own header, read before decoding.

A codec allocates what its codestream declares, not what the DICOM header
says. :func:`declared_size` reads the size from the JPEG (SOF), JPEG-LS (SOF55)
and JPEG 2000 (SIZ) markers, so that a frame claiming more than the DICOM
header allows is refused before a decoder sees it.
"""

from __future__ import annotations

import struct

# JPEG start-of-frame markers (not DHT C4, JPG C8, DAC CC); F7 is JPEG-LS
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                  0xCF, 0xF7})
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
    at, end = 2, min(len(frame), _SCAN_LIMIT)
    while at + 4 <= end:
        if frame[at] != 0xFF:
            return None
        marker = frame[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        length = struct.unpack(">H", frame[at + 2:at + 4])[0]
        if marker in _SOF:
            if at + 9 > len(frame):
                return None
            height, width = struct.unpack(">HH", frame[at + 5:at + 9])
            return height, width
        at += 2 + length
    return None
