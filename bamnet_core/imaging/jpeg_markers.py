"""The marker segments of a JPEG (or JPEG-LS) header, walked once for every reader.

A JPEG header is a chain of segments: ``FF xx`` and, for most markers, a
two-byte length. :func:`header_segments` walks that chain from after SOI up to
the first start-of-scan, so that a reader asking "is there EXIF?" shares one
careful walk instead of its own. :func:`stream_segments` walks the whole
stream as a decoder does (through every scan, past garbage between segments,
to the end-of-image), so that every start-of-frame is seen wherever it sits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

SOS = 0xDA  # start of scan: the entropy-coded data follows
EOI = 0xD9  # end of image
LSE = 0xF8  # JPEG-LS preset parameters; ID 4 carries an oversize frame's dimensions
APP1 = 0xE1  # EXIF lives here
# start-of-frame markers (not DHT C4, JPG C8, DAC CC); F7 is JPEG-LS
SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                 0xCF, 0xF7})


class BrokenChain(ValueError):
    """The header is not a chain of marker segments where one was expected."""


class Segment(NamedTuple):
    """One marker segment: its marker byte, where its ``FF`` sits, and its payload."""

    marker: int
    at: int
    payload: bytes


def _standalone(marker: int) -> bool:
    return marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7


def header_segments(data: bytes, limit: int | None = None) -> Iterator[Segment]:
    """Yield the segments after SOI, the start-of-scan last (its payload is its header only).

    :param limit: walk no further than this many bytes (a frame's header is short).
    :raises BrokenChain: where a marker was expected and is not there, or a length is
        shorter than its own two bytes.
    """
    at, end = 2, min(len(data), limit) if limit is not None else len(data)
    while at + 4 <= end:
        if data[at] != 0xFF:
            raise BrokenChain(f"no marker at byte {at}")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if _standalone(marker):
            at += 2
            continue
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < 2:
            raise BrokenChain(f"segment FF{marker:02X} at byte {at} has length {length}")
        yield Segment(marker, at, data[at + 4:at + 2 + length])
        if marker == SOS:
            return
        at += 2 + length


def stream_segments(data: bytes) -> Iterator[Segment]:
    """Yield every marker segment of the stream after SOI, as a decoder finds them.

    Unlike :func:`header_segments` this never gives up: after a scan's header
    it skips the entropy-coded data (``FF 00`` stuffing, restart markers, and
    JPEG-LS's ``FF`` followed by a byte below ``0x80`` are data), and where a
    marker was expected and is not there it searches forward for the next one,
    as libjpeg does ("extraneous bytes before marker"). It stops at the
    end-of-image marker or the end of the data. Payloads of segments cut short
    by the end of the data are given as far as they go.
    """
    at, end = 2, len(data)
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= end:
            return
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte, or the first FF of a run
            at += 1
            continue
        if marker < 0xC0 and marker != 0x01:  # stuffing or data (0x02-0xBF are reserved)
            at += 2
            continue
        if marker == EOI:
            return
        if _standalone(marker):
            at += 2
            continue
        if at + 4 > end:
            return
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < 2:  # not a segment a decoder could follow: look further
            at += 2
            continue
        yield Segment(marker, at, data[at + 4:at + 2 + length])
        at += 2 + length
