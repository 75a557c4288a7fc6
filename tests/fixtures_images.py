"""Build awkward and broken image files in code, for any test that needs them.

:func:`write_image_zoo` writes every case into a folder and returns what
decoding each one must give: either ``"ok"`` (with the expected shape) or the
:class:`~bamnet_core.errors.ImageDecodeError` kind. :func:`write_dicom` and
:func:`write_png` are reusable on their own. Nothing here reads real data.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bamnet_core.imaging.properties import LungSource

# A lung-field source that marks no lungs: every pixel is read (tests of the properties
# themselves, on small synthetic images that are not chests).
NO_LUNGS_MARKED = LungSource(name="no lungs marked", tag="test-no-lungs",
                             field=lambda gray, path: np.zeros(gray.shape[:2], dtype=bool))


@dataclass(frozen=True)
class ZooCase:
    """One file of the zoo and what decoding it must give.

    :param path: the file.
    :param expect: ``"ok"``, or the expected ``ImageDecodeError.kind``.
    :param shape: for ``"ok"``: the decoded (height, width).
    """

    path: Path
    expect: str
    shape: tuple[int, int] | None = None


def gradient(height: int = 24, width: int = 32, dtype: type = np.uint8) -> np.ndarray:
    """A horizontal ramp from black to white: dark left, bright right."""
    top = np.iinfo(dtype).max
    row = np.linspace(0, top, width).round().astype(dtype)
    return np.tile(row, (height, 1))


def write_png(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` with OpenCV (8/16-bit, 1/3/4 channels) and return the path."""
    ok, buf = cv2.imencode(path.suffix or ".png", array)
    assert ok, path
    path.write_bytes(buf.tobytes())
    return path


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but holds almost no data (a bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def write_dicom(path: Path, pixels: np.ndarray | None, *, photometric: str = "MONOCHROME2",
                bits_stored: int = 12, window: tuple[float, float] | None = None) -> Path:
    """Write a minimal, valid DICOM file (uncompressed, explicit VR little endian).

    :param pixels: uint16 values (at most ``2**bits_stored - 1``); ``None``
        writes a DICOM object with no pixel data.
    :param window: (centre, width) to store as the VOI window.
    """
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CR"
    ds.PatientID = "ZOO-1"
    if pixels is not None:
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated = 16
        ds.BitsStored = bits_stored
        ds.HighBit = bits_stored - 1
        ds.PixelRepresentation = 0
        if window is not None:
            ds.WindowCenter, ds.WindowWidth = window
        ds.PixelData = pixels.astype("<u2").tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return path


def twelve_bit_ramp(height: int = 16, width: int = 20) -> np.ndarray:
    """A 12-bit ramp (0..4095) as uint16, dark left, bright right."""
    return np.tile(np.linspace(0, 4095, width).round().astype(np.uint16), (height, 1))


def write_image_zoo(folder: Path) -> dict[str, ZooCase]:
    """Write every awkward and broken case into ``folder``; name -> :class:`ZooCase`."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, ZooCase] = {}

    def ok(name: str, path: Path, shape: tuple[int, int]) -> None:
        cases[name] = ZooCase(path, "ok", shape)

    def bad(name: str, path: Path, kind: str) -> None:
        cases[name] = ZooCase(path, kind)

    g8 = gradient()
    ok("jpeg", write_png(folder / "plain.jpg", g8), (24, 32))
    ok("png8", write_png(folder / "gray8.png", g8), (24, 32))
    ok("png16", write_png(folder / "gray16.png", gradient(dtype=np.uint16)), (24, 32))
    ok("rgb", write_png(folder / "colour.png", np.dstack([g8, g8, g8])), (24, 32))
    ok("rgba", write_png(folder / "alpha.png", np.dstack([g8, g8, g8, np.full_like(g8, 128)])),
       (24, 32))
    ok("bmp", write_png(folder / "plain.bmp", g8), (24, 32))
    ok("tiff16", write_png(folder / "gray16.tif", gradient(dtype=np.uint16)), (24, 32))
    ok("one_pixel", write_png(folder / "one.png", np.full((1, 1), 200, np.uint8)), (1, 1))
    ok("unicode", write_png(folder / "röntgen-胸部 x.png", g8), (24, 32))
    ok("exif_rotated", _exif_rotated_jpeg(folder / "rotated.jpg", g8), (32, 24))
    ok("dicom_mono2", write_dicom(folder / "mono2.dcm", twelve_bit_ramp()), (16, 20))
    ok("dicom_mono1", write_dicom(folder / "mono1.dcm", twelve_bit_ramp(),
                                  photometric="MONOCHROME1"), (16, 20))
    ok("dicom_window", write_dicom(folder / "window.dcm", twelve_bit_ramp(),
                                   window=(2048, 1024)), (16, 20))
    ok("dicom_no_suffix", write_dicom(folder / "IMG0001", twelve_bit_ramp()), (16, 20))

    (folder / "empty.png").write_bytes(b"")
    bad("zero_bytes", folder / "empty.png", "empty")
    noise = np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)
    full = write_png(folder / "noise-full.jpg", noise).read_bytes()
    (folder / "noise-full.jpg").unlink()
    (folder / "truncated.jpg").write_bytes(full[: len(full) * 2 // 3])
    bad("truncated_jpeg", folder / "truncated.jpg", "truncated")
    (folder / "header-only.jpg").write_bytes(full[:40])
    bad("truncated_header", folder / "header-only.jpg", "truncated")
    png = (folder / "gray8.png").read_bytes()
    (folder / "truncated.png").write_bytes(png[: len(png) - 30])
    bad("truncated_png", folder / "truncated.png", "truncated")
    (folder / "notes.png").write_text("this is not an image, just text\n", encoding="utf-8")
    bad("text_as_png", folder / "notes.png", "not-an-image")
    (folder / "noise.jpg").write_bytes(np.random.default_rng(0).bytes(2048))
    bad("random_bytes", folder / "noise.jpg", "not-an-image")
    (folder / "bomb.png").write_bytes(png_claiming(100_000, 100_000))
    bad("huge_header", folder / "bomb.png", "too-large")
    write_dicom(folder / "no-pixels.dcm", None)
    bad("dicom_no_pixels", folder / "no-pixels.dcm", "no-pixels")
    return cases


def _exif_rotated_jpeg(path: Path, gray: np.ndarray) -> Path:
    """A JPEG whose EXIF says 'rotate 90° clockwise' (orientation 6)."""
    from PIL import Image

    image = Image.fromarray(gray)
    exif = image.getexif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    path.write_bytes(buf.getvalue())
    return path
