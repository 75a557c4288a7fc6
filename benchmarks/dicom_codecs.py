"""Which DICOM transfer syntaxes and photometric interpretations decode, on this install.

    python benchmarks/dicom_codecs.py [--image XRAY.png] [--markdown]

Each case is a DICOM file made here from one image (``--image``: a real chest
X-ray, resized to 512 a side; default: a synthetic one) with pydicom's encoders,
the codecs' own (pyjpegls, pylibjpeg-openjpeg) or GDCM, plus the test files
pydicom ships. Each is decoded by bamnet (``decode_image``) and reported as
``decoded`` with the largest difference from the source image (0 for lossless),
or as the error kind. Run it in a fresh venv after a plain ``pip install`` to
see what a user gets out of the box.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom import uid
from pydicom.data import get_testdata_file
from pydicom.dataset import FileDataset, FileMetaDataset

from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging.decode import decode_image


def source_image(path: Path | None, size: int = 512) -> np.ndarray:
    """A 16-bit grayscale image in [0, 65535]: the X-ray given, else a synthetic one."""
    import cv2

    if path is None:
        y, x = np.mgrid[0:size, 0:size] / size
        body = 0.65 - 0.45 * ((x - 0.5) ** 2 + (y - 0.55) ** 2 > 0.2)
        lungs = ((x - 0.32) ** 2 / 0.02 + (y - 0.5) ** 2 / 0.08 < 1) | \
            ((x - 0.68) ** 2 / 0.02 + (y - 0.5) ** 2 / 0.08 < 1)
        noise = np.random.default_rng(0).normal(0, 0.02, (size, size))
        return (np.clip(body - 0.3 * lungs + noise, 0, 1) * 65535).astype(np.uint16)
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_ANYDEPTH)
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return image.astype(np.uint16) * (257 if image.dtype == np.uint8 else 1)


def dataset(gray16: np.ndarray, *, bits: int, photometric: str = "MONOCHROME2") -> Any:
    """A DX dataset holding ``gray16`` at ``bits`` bits (RGB: three equal channels)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = uid.DigitalXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = uid.generate_uid()
    meta.TransferSyntaxUID = uid.ExplicitVRLittleEndian
    ds = FileDataset("bench", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    values = (gray16 >> (16 - bits)).astype(np.uint16)
    if photometric == "MONOCHROME1":
        values = (2**bits - 1) - values
    colour = photometric == "RGB"
    if colour:
        values = np.stack([values] * 3, axis=-1)
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = gray16.shape
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = (8 if bits <= 8 else 16), bits, bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = values.astype("u1" if bits <= 8 else "<u2").tobytes()
    return ds


def gdcm_encode(ds: Any, syntax: str, folder: Path) -> Any:
    """``ds`` re-encoded by GDCM (JPEG Baseline and JPEG Lossless have no pydicom encoder)."""
    import gdcm

    kinds = {uid.JPEGLossless: gdcm.TransferSyntax.JPEGLosslessProcess14,
             uid.JPEGLosslessSV1: gdcm.TransferSyntax.JPEGLosslessProcess14_1,
             uid.JPEGBaseline8Bit: gdcm.TransferSyntax.JPEGBaselineProcess1}
    plain, packed = folder / "plain.dcm", folder / "packed.dcm"
    ds.save_as(plain, enforce_file_format=True)
    reader = gdcm.ImageReader()
    reader.SetFileName(str(plain))
    reader.Read()
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(kinds[syntax]))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise RuntimeError("GDCM could not encode")
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(packed))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    writer.Write()
    return pydicom.dcmread(packed)


def made_cases(gray16: np.ndarray, folder: Path) -> list[tuple[str, str, str, Callable]]:
    """(syntax, photometric, bits, make) for each file made here."""
    def plain(syntax: str, bits: int, pi: str = "MONOCHROME2") -> Callable:
        def make() -> Any:
            ds = dataset(gray16, bits=bits, photometric=pi)
            ds.file_meta.TransferSyntaxUID = syntax
            return ds
        return make

    def packed(syntax: str, bits: int, pi: str = "MONOCHROME2", **kw: Any) -> Callable:
        def make() -> Any:
            ds = dataset(gray16, bits=bits, photometric=pi)
            if syntax in (uid.JPEGLossless, uid.JPEGLosslessSV1, uid.JPEGBaseline8Bit):
                return gdcm_encode(ds, syntax, folder)
            ds.compress(syntax, **kw)
            if kw.get("use_mct") and pi == "RGB":
                ds.PhotometricInterpretation = "YBR_RCT" if syntax == uid.JPEG2000Lossless \
                    else "YBR_ICT"
            return ds
        return make

    cases = [(uid.ExplicitVRLittleEndian, pi, b, plain(uid.ExplicitVRLittleEndian, b, pi))
             for pi, b in (("MONOCHROME2", 8), ("MONOCHROME2", 12), ("MONOCHROME2", 16),
                           ("MONOCHROME1", 12), ("RGB", 8))]
    cases += [(uid.ImplicitVRLittleEndian, "MONOCHROME2", 12,
               plain(uid.ImplicitVRLittleEndian, 12)),
              (uid.DeflatedExplicitVRLittleEndian, "MONOCHROME2", 12,
               plain(uid.DeflatedExplicitVRLittleEndian, 12))]
    for syntax, pi, bits, kw in (
            (uid.RLELossless, "MONOCHROME2", 12, {}), (uid.RLELossless, "MONOCHROME1", 12, {}),
            (uid.RLELossless, "RGB", 8, {}),
            (uid.JPEGBaseline8Bit, "MONOCHROME2", 8, {}),
            (uid.JPEGLossless, "MONOCHROME2", 12, {}), (uid.JPEGLossless, "MONOCHROME2", 16, {}),
            (uid.JPEGLosslessSV1, "MONOCHROME2", 12, {}),
            (uid.JPEGLosslessSV1, "MONOCHROME1", 16, {}),
            (uid.JPEGLSLossless, "MONOCHROME2", 12, {}),
            (uid.JPEGLSLossless, "MONOCHROME2", 16, {}),
            (uid.JPEGLSLossless, "RGB", 8, {}),
            (uid.JPEGLSNearLossless, "MONOCHROME2", 12, {"jls_error": 3}),
            (uid.JPEG2000Lossless, "MONOCHROME2", 12, {}),
            (uid.JPEG2000Lossless, "MONOCHROME2", 16, {}),
            (uid.JPEG2000Lossless, "RGB", 8, {"use_mct": True}),
            (uid.JPEG2000, "MONOCHROME2", 12, {"j2k_cr": [10]}),
            (uid.JPEG2000, "RGB", 8, {"use_mct": True, "j2k_cr": [10]})):
        shown = "YBR_RCT" if kw.get("use_mct") and syntax == uid.JPEG2000Lossless else \
            "YBR_ICT" if kw.get("use_mct") else pi
        cases.append((syntax, shown, bits, packed(syntax, bits, pi, **kw)))
    return cases


SHIPPED = ["JPGExtended.dcm", "JPEG-lossy.dcm", "examples_palette.dcm", "MR_small_bigendian.dcm",
           "image_dfl.dcm", "examples_ybr_color.dcm", "SC_ybr_full_422_uncompressed.dcm",
           "SC_rgb_jpeg_dcmtk.dcm", "GDCMJ2K_TextGBR.dcm", "JPEGLSNearLossless_16.dcm",
           "SC_rgb_rle_2frame.dcm", "693_J2KI.dcm", "JPEG2000-embedded-sequence-delimiter.dcm"]


def outcome(path: Path, reference: np.ndarray | None) -> str:
    """``decoded`` (with the largest difference from ``reference``), or the error kind."""
    try:
        image = decode_image(path)
    except ImageDecodeError as exc:
        return f"{exc.kind}: {exc.reason.split(': ', 1)[-1][:70]}"
    if reference is None or reference.shape != image.shape:
        return "decoded"
    return f"decoded (max error {float(np.abs(image - reference).max()):.4f})"


def main() -> None:
    """Make, decode and print every case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, help="a chest X-ray to encode (PNG or JPEG)")
    args = parser.parse_args()
    gray16 = source_image(args.image)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n, (syntax, pi, bits, make) in enumerate(made_cases(gray16, folder)):
            path = folder / f"case{n}.dcm"
            try:
                make().save_as(path, enforce_file_format=True)
            except Exception as exc:  # an encoder this install lacks
                rows.append((uid.UID(syntax).name, pi, bits, "made", f"(not encoded: {exc})"))
                continue
            reference = (gray16 >> (16 - bits)).astype(np.float64) / (2**bits - 1)
            rows.append((uid.UID(syntax).name, pi, bits, "made", outcome(path, reference)))
        mpeg = dataset(gray16, bits=8)
        mpeg.compress(uid.RLELossless)
        mpeg.file_meta.TransferSyntaxUID = uid.MPEG2MPML
        mpeg.save_as(folder / "mpeg.dcm", enforce_file_format=True)
        rows.append((uid.MPEG2MPML.name, "MONOCHROME2", 8, "made",
                     outcome(folder / "mpeg.dcm", None)))
    for name in SHIPPED:
        path = Path(get_testdata_file(name))
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        rows.append((ds.file_meta.TransferSyntaxUID.name, str(ds.PhotometricInterpretation),
                     ds.BitsStored, f"pydicom {name}", outcome(path, None)))
    print("| transfer syntax | photometric | bits | file | result |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
