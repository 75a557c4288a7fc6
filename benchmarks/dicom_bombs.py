"""Peak memory of decoding hostile DICOM files: each is refused before it is decoded.

    python benchmarks/dicom_bombs.py

Writes, in a temporary folder, the files of issue 21: a Deflated file of a few
MB whose 8 x 8 image is followed by 3 GiB of zeros, and an RLE file of 60
frames of 4096 x 4096 (about 31 MB); and, for comparison, one ordinary
512 x 512 frame. Each is decoded by ``decode_image`` in a fresh process, and
the script prints that process's peak resident memory and the outcome.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from pydicom import uid
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info

CHILD = """
import resource, sys
from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging.decode import decode_image
try:
    image = decode_image(sys.argv[1])
    outcome = f"decoded {image.shape[1]}x{image.shape[0]}"
except ImageDecodeError as exc:
    outcome = f"{exc.kind}: {exc.reason.split(': ', 1)[-1]}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{peak:.0f}\\t{outcome}")
"""


def dataset(rows: int, cols: int, frames: int = 1) -> FileDataset:
    """A 16-bit MONOCHROME2 dataset with zero pixels."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = uid.DigitalXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = uid.generate_uid()
    meta.TransferSyntaxUID = uid.ExplicitVRLittleEndian
    ds = FileDataset("bomb", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = np.zeros((rows, cols), "<u2").tobytes() if frames == 1 else b""
    return ds


def deflate_bomb(path: Path, gib: int = 3) -> None:
    """An 8 x 8 image, Deflated, followed by ``gib`` GiB of zeros in a trailing element."""
    ds = dataset(8, 8)
    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    head = DicomBytesIO()
    head.is_little_endian, head.is_implicit_VR = True, False
    head.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(head, ds.file_meta, enforce_standard=True)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    write_dataset(body, ds)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    size = gib << 30
    with open(path, "wb") as fh:
        fh.write(head.getvalue())
        fh.write(packer.compress(body.getvalue() + b"\x09\x00\x10\x00OB\x00\x00"
                                 + min(size, 0xFFFFFFFE).to_bytes(4, "little")))
        zeros = bytes(64 << 20)
        for _ in range(size // len(zeros)):
            fh.write(packer.compress(zeros))
        fh.write(packer.flush())


def rle_frames(path: Path, frames: int = 60, side: int = 4096) -> None:
    """``frames`` RLE frames of ``side`` x ``side`` 16-bit zeros (two byte segments each)."""
    run = b"\x81\x00" * (side * side // 128)  # 128 zeros per run
    header = struct.pack("<16L", 2, 64, 64 + len(run), *([0] * 13))
    frame = header + run + run
    ds = dataset(side, side, frames)
    ds.file_meta.TransferSyntaxUID = uid.RLELossless
    ds.PixelData = encapsulate([frame] * frames)
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)


def main() -> None:
    """Write the files, decode each in a fresh process, print peak memory and outcome."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = {"ordinary 512x512, uncompressed": folder / "plain.dcm",
                 "Deflated, 8x8 then 3 GiB of zeros": folder / "deflate.dcm",
                 "RLE, 60 frames of 4096x4096": folder / "rle.dcm"}
        plain = dataset(512, 512)
        plain.save_as(cases["ordinary 512x512, uncompressed"], enforce_file_format=True)
        deflate_bomb(cases["Deflated, 8x8 then 3 GiB of zeros"])
        rle_frames(cases["RLE, 60 frames of 4096x4096"])
        print("| file | size | peak RSS (MB) | outcome |")
        print("|---|---|---|---|")
        for name, path in cases.items():
            done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                                  text=True, check=True)
            peak, outcome = done.stdout.strip().split("\t", 1)
            size = path.stat().st_size / 1e6
            print(f"| {name} | {size:.1f} MB | {peak} | {outcome} |")


if __name__ == "__main__":
    main()
