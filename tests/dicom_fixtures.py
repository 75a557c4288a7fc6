"""DICOM files made in code: any transfer syntax, photometric, tags; planted PHI.

:func:`make_dataset` builds a dataset from pixels, :func:`encode` compresses it
with pydicom's encoders (RLE; JPEG-LS through pyjpegls; JPEG 2000 through
pylibjpeg-openjpeg) or with GDCM (JPEG Lossless), and :func:`save` writes it.
:data:`PHI` holds distinctive values for every identifying tag, which the
planted-PHI tests grep for in everything bamnet writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# distinctive values planted in identifying tags; none may ever leave a run
PHI = {
    "PatientName": "Zzyzx^Quentavious",
    "PatientBirthDate": "19171113",
    "AccessionNumber": "ACCQX7741",
    "InstitutionName": "Quarrington Memorial Infirmary",
    "InstitutionAddress": "77 Vexley Lane Quarrington",
    "ReferringPhysicianName": "Brumblewick^Osric",
    "OperatorsName": "Thistlewood^Marn",
    "StationName": "XRSTATIONQZ9",
    "StudyID": "STQZ55831",
    "StudyDate": "20190417",
    "SeriesDate": "20190417",
    "AcquisitionDate": "20190417",
    "ContentDate": "20190417",
    "StudyTime": "101112",
    "OtherPatientIDs": "OTHQZ4410",
    "DeviceSerialNumber": "SERQZ90210",
}
# the patient id is planted per patient: PHI_PATIENT_PREFIX + a number
PHI_PATIENT_PREFIX = "MRNQZ"
UID_ROOT = "1.2.826.0.1.3680043.8.498.77"  # pydicom's example root, with our branch


def phantom(seed: int, size: int = 64) -> np.ndarray:
    """A chest-like 12-bit image: bright body, two darker lungs, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    body = 2600 - 1800 * ((x - 0.5) ** 2 + (y - 0.55) ** 2 > 0.2)
    lungs = ((x - 0.32) ** 2 / 0.02 + (y - 0.5) ** 2 / 0.08 < 1) | \
        ((x - 0.68) ** 2 / 0.02 + (y - 0.5) ** 2 / 0.08 < 1)
    image = body - 1200 * lungs + rng.normal(0, 60, (size, size))
    return np.clip(image, 0, 4095).astype(np.uint16)


def make_dataset(pixels: np.ndarray, *, photometric: str = "MONOCHROME2", bits: int = 12,
                 tags: dict[str, Any] | None = None, frames: int = 1) -> Any:
    """A DX image dataset (explicit VR little endian) holding ``pixels``, with ``tags`` set."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import (
        DigitalXRayImageStorageForPresentation,
        ExplicitVRLittleEndian,
        generate_uid,
    )

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DigitalXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("made-in-code", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    colour = pixels.ndim == 3 and frames == 1 or pixels.ndim == 4
    ds.Rows, ds.Columns = pixels.shape[-3:-1] if colour else pixels.shape[-2:]
    ds.SamplesPerPixel = 3 if colour else 1
    if colour:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.astype("u1" if bits <= 8 else "<u2").tobytes()
    for keyword, value in (tags or {}).items():
        setattr(ds, keyword, value)
    return ds


def encode(ds: Any, syntax: str) -> Any:
    """``ds`` compressed to ``syntax`` (a UID), in place; returns it."""
    from pydicom import uid

    if syntax in (uid.JPEGLossless, uid.JPEGLosslessSV1):
        return _gdcm_encode(ds, syntax)
    if syntax in (uid.ExplicitVRLittleEndian, uid.DeflatedExplicitVRLittleEndian,
                  uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian):
        ds.file_meta.TransferSyntaxUID = syntax
        return ds
    kwargs: dict[str, Any] = {}
    if syntax == uid.JPEGLSNearLossless:
        kwargs["jls_error"] = 3
    if syntax == uid.JPEG2000:
        kwargs["j2k_cr"] = [5]
    ds.compress(syntax, **kwargs)
    return ds


def _gdcm_encode(ds: Any, syntax: str) -> Any:
    import tempfile

    import gdcm
    import pydicom

    kind = {"1.2.840.10008.1.2.4.57": gdcm.TransferSyntax.JPEGLosslessProcess14,
            "1.2.840.10008.1.2.4.70": gdcm.TransferSyntax.JPEGLosslessProcess14_1}[syntax]
    with tempfile.TemporaryDirectory() as tmp:
        plain, packed = Path(tmp, "plain.dcm"), Path(tmp, "packed.dcm")
        ds.save_as(plain, enforce_file_format=True)
        reader = gdcm.ImageReader()
        reader.SetFileName(str(plain))
        assert reader.Read()
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(kind))
        change.SetInput(reader.GetImage())
        assert change.Change()
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(packed))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        assert writer.Write()
        return pydicom.dcmread(packed)


def save(ds: Any, path: Path) -> Path:
    """Write ``ds`` as a DICOM file (with its meta header) at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def patient_tags(patient: int, *, sex: str, age: int, view: str = "PA",
                 study: int = 0, body_part: str = "CHEST", modality: str = "DX") -> dict:
    """The identifying and descriptive tags of one image of ``patient``, PHI planted."""
    return {**PHI, "PatientID": f"{PHI_PATIENT_PREFIX}{patient:04d}", "PatientSex": sex,
            "PatientAge": f"{age:03d}Y", "ViewPosition": view, "BodyPartExamined": body_part,
            "Modality": modality, "Manufacturer": "Acme Radiography",
            "StudyInstanceUID": f"{UID_ROOT}.{patient}.{study}",
            "SeriesInstanceUID": f"{UID_ROOT}.{patient}.{study}.1"}


def planted_values() -> list[str]:
    """Every planted value that must not appear in a shareable or exported file."""
    return [str(v) for v in PHI.values()] + [PHI_PATIENT_PREFIX, UID_ROOT]
