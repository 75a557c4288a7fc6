"""DICOM pixels that mean nothing are error rows naming the tag; valid ones still score."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from dicom_fixtures import make_dataset, phantom, save
from onnx_fixtures import write_tiny_model

from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging.decode import decode_image

SLOPE, INTERCEPT = 0x00281053, 0x00281052


def _rescaled(path: Path, slope: str, intercept: str) -> Path:
    """A 12-bit phantom with RescaleSlope and RescaleIntercept written as these strings."""
    from pydicom.dataelem import DataElement

    ds = make_dataset(phantom(1))
    ds.add(DataElement(SLOPE, "DS", slope))
    ds.add(DataElement(INTERCEPT, "DS", intercept))
    return save(ds, path)


def _float(path: Path, pixels: np.ndarray) -> Path:
    """A Float Pixel Data image holding ``pixels``."""
    ds = make_dataset(phantom(1))
    del ds.PixelData, ds.BitsStored, ds.HighBit, ds.PixelRepresentation
    ds.BitsAllocated = 32
    ds.FloatPixelData = pixels.astype("<f4").tobytes()
    return save(ds, path)


def _float_with(value: float) -> np.ndarray:
    pixels = phantom(1).astype(np.float32)
    pixels[5, 7] = value
    return pixels


BAD = {
    "slope-0": (lambda p: _rescaled(p, "0", "0"), "RescaleSlope (0028,1053) is 0"),
    "slope-nan": (lambda p: _rescaled(p, "NaN", "0"), "RescaleSlope (0028,1053) is nan"),
    "slope-inf": (lambda p: _rescaled(p, "inf", "0"), "RescaleSlope (0028,1053) is inf"),
    "slope-1e308": (lambda p: _rescaled(p, "1e308", "0"),
                    "RescaleSlope (0028,1053) is 1e+308"),
    "intercept-1e308": (lambda p: _rescaled(p, "1", "1e308"),
                        "RescaleIntercept (0028,1052) is 1e+308"),
    "float-nan": (lambda p: _float(p, _float_with(np.nan)),
                  "FloatPixelData (7FE0,0008) holds 1 NaN or infinite values"),
    "float-inf": (lambda p: _float(p, _float_with(np.inf)),
                  "FloatPixelData (7FE0,0008) holds 1 NaN or infinite values"),
}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("case", sorted(BAD))
def test_meaningless_pixels_are_an_error_row_naming_the_tag(tmp_path, cli, case):
    make, words = BAD[case]
    folder = tmp_path / "scans"
    bad = make(folder / "bad.dcm")
    _rescaled(folder / "good.dcm", "2", "-100")
    out = tmp_path / "s.csv"
    result = cli("score", str(write_tiny_model(tmp_path / "m.onnx")), str(folder), "-o", str(out))
    assert result.exit_code == 3, result.stderr
    with out.open(newline="") as fh:
        rows = {Path(row["path"]).name: row for row in csv.DictReader(fh)}
    assert words in rows["bad.dcm"]["error"] and rows["bad.dcm"]["label"] == ""
    assert rows["good.dcm"]["error"] == "" and rows["good.dcm"]["label"] != ""
    with pytest.raises(ImageDecodeError, match="mean nothing"):
        decode_image(bad)  # the path training's datasets decode through refuses it too


@pytest.mark.filterwarnings("ignore")
def test_valid_float_pixel_data_and_a_valid_rescale_decode_to_the_image(tmp_path):
    reference = decode_image(_rescaled(tmp_path / "a.dcm", "1", "0"))
    rescaled = decode_image(_rescaled(tmp_path / "b.dcm", "2", "-100"))
    floats = decode_image(_float(tmp_path / "f.dcm", phantom(1).astype(np.float32)))
    assert floats.max() == pytest.approx(1.0) and floats.min() == pytest.approx(0.0)
    assert np.corrcoef(floats.ravel(), reference.ravel())[0, 1] > 0.99
    assert np.corrcoef(rescaled.ravel(), reference.ravel())[0, 1] > 0.99
