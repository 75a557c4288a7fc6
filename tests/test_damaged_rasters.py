"""Damaged JPEG and PNG data is an error, never a score; palette PNGs are converted, not indices."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging.decode import decode_bytes


def phantom(size: int = 256) -> np.ndarray:
    """A smooth chest-like gradient with noise: compresses like a radiograph, not like a flat."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    rng = np.random.default_rng(1)
    img = 120 + 80 * np.sin(6 * xx) * np.cos(4 * yy) + rng.normal(0, 12, (size, size))
    return np.clip(img, 0, 255).astype(np.uint8)


def jpeg_bytes(progressive: bool = False) -> bytes:
    flags = [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)]
    return cv2.imencode(".jpg", phantom(), flags)[1].tobytes()


def with_size(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0/SOF2) claims ``width`` x ``height``."""
    out = bytearray(data)
    at = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
    out[at + 5:at + 7] = height.to_bytes(2, "big")
    out[at + 7:at + 9] = width.to_bytes(2, "big")
    return bytes(out)


def decode(data: bytes, name: str = "x.jpg") -> np.ndarray:
    return decode_bytes(Path(name), data)


@pytest.mark.parametrize("progressive", [False, True])
def test_a_whole_jpeg_decodes(progressive):
    gray = decode(jpeg_bytes(progressive))
    assert gray.shape == (256, 256)
    assert abs(float(gray.mean()) * 255 - float(phantom().mean())) < 3


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_a_cut_jpeg_with_its_end_marker_put_back_is_refused(progressive, keep):
    data = jpeg_bytes(progressive)
    cut = data[:int(len(data) * keep)] + b"\xff\xd9"
    with pytest.raises(ImageDecodeError) as info:
        decode(cut)
    assert info.value.kind == "truncated"
    assert "corrupt or truncated JPEG data" in info.value.reason


def test_a_jpeg_whose_header_claims_a_larger_image_is_refused():
    with pytest.raises(ImageDecodeError) as info:
        decode(with_size(jpeg_bytes(), 8900, 8900))
    assert info.value.kind == "truncated"


def test_garbage_inside_the_scan_is_refused():
    data = bytearray(jpeg_bytes())
    middle = len(data) // 2
    data[middle:middle + 300] = bytes(300)
    with pytest.raises(ImageDecodeError, match="corrupt or truncated JPEG"):
        decode(bytes(data))


def test_a_jpeg_cut_without_its_end_marker_is_refused():
    data = jpeg_bytes()
    with pytest.raises(ImageDecodeError) as info:
        decode(data[: len(data) // 2])
    assert info.value.kind == "truncated"


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        chunks.append((data[at + 4:at + 8], data[at:at + 12 + length]))
        at += 12 + length
    return chunks


def png_bytes() -> bytes:
    return cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (512, 512),
                                                                 dtype=np.uint8))[1].tobytes()


def test_a_png_missing_half_its_image_data_is_refused():
    data = png_bytes()
    chunks = png_chunks(data)
    idat = [c for kind, c in chunks if kind == b"IDAT"]
    assert len(idat) > 2
    damaged = data[:8] + chunks[0][1] + b"".join(idat[: len(idat) // 2]) + chunks[-1][1]
    with pytest.raises(ImageDecodeError) as info:
        decode(damaged, "x.png")
    assert info.value.kind == "truncated"


def test_a_png_whose_header_claims_a_larger_image_is_refused():
    data = bytearray(png_bytes())
    data[16:24] = struct.pack(">II", 2000, 2000)
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    with pytest.raises(ImageDecodeError):
        decode(bytes(data), "x.png")


def test_a_palette_png_is_converted_to_its_colours_not_scored_as_indices():
    gray = phantom(64)
    paletted = Image.fromarray(gray).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    buf = io.BytesIO()
    paletted.save(buf, "PNG")
    decoded = decode(buf.getvalue(), "x.png") * 255
    indices = np.asarray(paletted)
    assert indices.max() <= 15  # as indices the image would be nearly black
    assert abs(float(decoded.mean()) - float(gray.mean())) < 8


def colour_jpeg() -> bytes:
    rgb = np.stack([phantom(), phantom()[::-1], phantom().T], axis=-1)
    return cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


@pytest.mark.parametrize("data", [jpeg_bytes(), jpeg_bytes(progressive=True), colour_jpeg()],
                         ids=["gray", "progressive", "colour"])
def test_a_jpeg_is_decoded_once_to_the_pixels_opencv_gives(data, monkeypatch):
    from bamnet_core.imaging import decode as decoding

    expected = decoding.to_unit_gray(cv2.imdecode(np.frombuffer(data, np.uint8),
                                                  cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR))

    def second_decode(*args):
        raise AssertionError("a JPEG was decoded a second time")

    monkeypatch.setattr(decoding.cv2, "imdecode", second_decode)
    np.testing.assert_array_equal(decode(data), expected)


def exif_jpeg(orientation: int, mode: str = "L") -> bytes:
    """A 256 x 128 (w x h) JPEG whose EXIF says how to turn it."""
    image = Image.fromarray(phantom()[:128]).convert(mode)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def test_a_jpeg_with_exif_orientation_is_turned_as_before():
    assert decode(exif_jpeg(1)).shape == (128, 256)
    assert decode(exif_jpeg(6)).shape == (256, 128)  # rotated 90 degrees, as OpenCV does


@pytest.mark.parametrize("data", [exif_jpeg(6), exif_jpeg(1, "CMYK")], ids=["exif", "cmyk"])
def test_a_cut_jpeg_that_opencv_decodes_is_still_refused(data):
    assert decode(data).ndim == 2
    with pytest.raises(ImageDecodeError, match="corrupt or truncated JPEG"):
        decode(data[:len(data) // 2] + b"\xff\xd9")
