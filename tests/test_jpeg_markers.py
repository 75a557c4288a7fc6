"""One walk over a JPEG header's marker segments serves the EXIF check and the frame-size check."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from bamnet_core.imaging.codestreams import Geometry, declared_geometry
from bamnet_core.imaging.integrity import has_exif
from bamnet_core.imaging.jpeg_markers import SOF, SOS, BrokenChain, header_segments


def jpeg(height: int = 24, width: int = 40) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((height, width), 128, np.uint8))
    assert ok
    return buf.tobytes()


def with_app(data: bytes, marker: int, payload: bytes) -> bytes:
    """``data`` with one more segment right after SOI."""
    return data[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload \
        + data[2:]


def test_the_walk_ends_at_the_scan_and_passes_the_frame_header():
    markers = [s.marker for s in header_segments(jpeg())]
    assert markers[-1] == SOS and any(m in SOF for m in markers)


def test_the_frame_size_is_read_behind_any_application_segment():
    data = with_app(jpeg(24, 40), 0xE2, b"\x00" * 5000)
    assert declared_geometry(data) == Geometry(24, 40, 1)


def test_exif_is_found_and_a_plain_file_has_none():
    assert not has_exif(jpeg())
    assert has_exif(with_app(jpeg(), 0xE1, b"Exif\x00\x00" + b"\x00" * 20))


@pytest.mark.parametrize("damage", [b"\x00\x00\x00\x00", b"\xff\xe2\x00\x01"])
def test_a_broken_chain_is_named_and_each_reader_takes_the_careful_answer(damage):
    data = jpeg()[:2] + damage + jpeg()[2:]
    with pytest.raises(BrokenChain):
        list(header_segments(data))
    assert has_exif(data)  # unreadable: decoded the careful way
    # a decoder skips the garbage and finds the frame, and so does the geometry check
    assert declared_geometry(data) == Geometry(24, 40, 1)
