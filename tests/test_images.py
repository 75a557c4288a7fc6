"""Decoding: every awkward or broken file decodes correctly or gives a clear per-file error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures_images import gradient, twelve_bit_ramp, write_dicom, write_image_zoo, write_png

from bamnet_core.errors import ConfigError, ImageDecodeError
from bamnet_core.imaging.decode import decode_image, load_input
from bamnet_core.imaging.preprocess import PreprocessSpec


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory):
    return write_image_zoo(tmp_path_factory.mktemp("zoo"))


def test_every_zoo_file_decodes_or_fails_with_its_kind(zoo):
    for name, case in zoo.items():
        if case.expect == "ok":
            image = decode_image(case.path)
            assert image.dtype == np.float32, name
            assert image.shape == case.shape, name
            assert 0.0 <= image.min() <= image.max() <= 1.0, name
        else:
            with pytest.raises(ImageDecodeError) as info:
                decode_image(case.path)
            assert info.value.kind == case.expect, (name, info.value.reason)
            assert info.value.path == str(case.path)
            assert str(case.path) in str(info.value)


def test_decoders_keep_orientation_and_brightness(zoo):
    for name in ("jpeg", "png8", "png16", "rgb", "rgba", "bmp", "tiff16", "unicode",
                 "dicom_mono2", "dicom_no_suffix"):
        image = decode_image(zoo[name].path)
        assert image[:, 0].mean() < 0.1 < 0.9 < image[:, -1].mean(), name


def test_exif_orientation_is_applied(zoo):
    image = decode_image(zoo["exif_rotated"].path)
    # the ramp ran left-to-right; rotated 90 degrees clockwise it runs top-to-bottom
    assert image.shape == (32, 24)
    assert image[0].mean() < 0.2 < 0.8 < image[-1].mean()


def test_monochrome1_is_inverted_relative_to_monochrome2(zoo):
    mono1 = decode_image(zoo["dicom_mono1"].path)
    mono2 = decode_image(zoo["dicom_mono2"].path)
    np.testing.assert_allclose(mono1, 1.0 - mono2, atol=1e-6)


def test_dicom_bits_stored_scales_to_full_range(zoo):
    image = decode_image(zoo["dicom_mono2"].path)
    # 12-bit values 0..4095 must span [0, 1], not [0, 1/16]
    assert image.min() == pytest.approx(0.0) and image.max() == pytest.approx(1.0)


def test_dicom_window_clips_outside_the_window(zoo):
    image = decode_image(zoo["dicom_window"].path)
    ramp = twelve_bit_ramp()[0]
    below, above = ramp < 2048 - 512, ramp > 2048 + 512
    assert np.all(image[:, below] == 0.0) and np.all(image[:, above] == 1.0)
    middle = image[0, (~below) & (~above)]
    assert np.all(np.diff(middle) > 0)


def test_pixel_limit_is_configurable(tmp_path: Path):
    path = write_png(tmp_path / "wide.png", gradient(20, 30))
    with pytest.raises(ImageDecodeError) as info:
        decode_image(path, max_pixels=500)
    assert info.value.kind == "too-large" and "20" in info.value.reason
    assert decode_image(path, max_pixels=600).shape == (20, 30)
    dcm = write_dicom(tmp_path / "a.dcm", twelve_bit_ramp())
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_image(dcm, max_pixels=100)


def test_missing_file_and_directory_are_per_file_errors(tmp_path: Path):
    with pytest.raises(ImageDecodeError, match="file not found"):
        decode_image(tmp_path / "absent.png")
    with pytest.raises(ImageDecodeError, match="directory"):
        decode_image(tmp_path)


def test_preprocess_spec_round_trips_json_and_rejects_junk():
    spec = PreprocessSpec(size=32, channels=3, scaling="vgg16", interpolation="cubic",
                          aspect="pad")
    assert PreprocessSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["aspect"] == "pad"
    with pytest.raises(ConfigError):
        PreprocessSpec.from_json('{"size": 32, "colour": true}')
    with pytest.raises(ConfigError):
        PreprocessSpec.from_json("not json")


def test_load_input_shapes_for_every_good_zoo_file(zoo):
    spec = PreprocessSpec(size=16, channels=3, aspect="pad")
    for name, case in zoo.items():
        if case.expect == "ok":
            x = load_input(case.path, spec)
            assert x.shape == (16, 16, 3), name
