"""DICOM as PACS export it: every compression, palettes, LUT order, bounds, codec errors."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_fixtures import encode, make_dataset, phantom, save
from pydicom import uid
from pydicom.data import get_testdata_file

from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging.decode import decode_described, decode_image

LOSSLESS = [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian,
            uid.DeflatedExplicitVRLittleEndian, uid.RLELossless, uid.JPEGLSLossless,
            uid.JPEG2000Lossless, uid.JPEGLossless, uid.JPEGLosslessSV1]
LOSSY = [uid.JPEGLSNearLossless, uid.JPEG2000]


def reference(pixels: np.ndarray, bits: int = 12) -> np.ndarray:
    return pixels.astype(np.float64) / (2**bits - 1)


@pytest.mark.parametrize("syntax", LOSSLESS, ids=lambda s: s.name)
def test_lossless_syntaxes_decode_exactly(tmp_path: Path, syntax: str) -> None:
    pixels = phantom(1)
    path = save(encode(make_dataset(pixels), syntax), tmp_path / "x.dcm")
    assert str(pydicom.dcmread(path).file_meta.TransferSyntaxUID) == syntax
    np.testing.assert_allclose(decode_image(path), reference(pixels), atol=1e-6)


@pytest.mark.parametrize("syntax", LOSSY, ids=lambda s: s.name)
def test_lossy_syntaxes_decode_close(tmp_path: Path, syntax: str) -> None:
    pixels = phantom(2)
    path = save(encode(make_dataset(pixels), syntax), tmp_path / "x.dcm")
    error = np.abs(decode_image(path) - reference(pixels))
    assert error.mean() < 0.02 and error.max() > 0  # close, and really lossy


def test_jpeg2000_colour_with_rct_decodes_as_luma(tmp_path: Path) -> None:
    gray = (phantom(3) >> 4).astype(np.uint8)
    rgb = np.stack([gray, gray, gray], axis=-1)
    ds = make_dataset(rgb, photometric="RGB", bits=8)
    ds.compress(uid.JPEG2000Lossless, use_mct=True)
    ds.PhotometricInterpretation = "YBR_RCT"  # what the codestream's colour transform means
    path = save(ds, tmp_path / "rct.dcm")
    np.testing.assert_allclose(decode_image(path), gray / 255.0, atol=1 / 255 + 1e-6)


@pytest.mark.parametrize("name", ["GDCMJ2K_TextGBR.dcm", "examples_jpeg2k.dcm",
                                  "JPEGLSNearLossless_16.dcm", "SC_rgb_jls_lossy_line.dcm",
                                  "MR_small_jpeg_ls_lossless.dcm", "JPGExtended.dcm",
                                  "JPEG-lossy.dcm", "image_dfl.dcm", "SC_rgb_rle_2frame.dcm",
                                  "examples_ybr_color.dcm", "SC_ybr_full_422_uncompressed.dcm",
                                  "MR_small_bigendian.dcm", "examples_palette.dcm"])
def test_pydicom_shipped_files_decode(name: str) -> None:
    image = decode_image(get_testdata_file(name))
    assert image.dtype == np.float32 and 0.0 <= image.min() <= image.max() <= 1.0
    assert image.std() > 0  # not a blank frame


def test_twelve_bit_jpeg_extended_matches_libjpeg_turbo() -> None:
    imagecodecs = pytest.importorskip("imagecodecs")
    from pydicom.encaps import get_frame

    ds = pydicom.dcmread(get_testdata_file("JPGExtended.dcm"))
    expected = imagecodecs.jpeg8_decode(get_frame(ds.PixelData, 0, number_of_frames=1))
    image = decode_image(get_testdata_file("JPGExtended.dcm"))
    np.testing.assert_allclose(image, expected / 4095.0, atol=1e-6)


def test_palette_colour_goes_through_its_lookup_tables(tmp_path: Path) -> None:
    indices = np.tile(np.arange(8, dtype=np.uint8), (4, 1))
    ds = make_dataset(indices, photometric="PALETTE COLOR", bits=8)
    ramp = np.linspace(65535, 0, 256).astype("<u2")  # index i -> bright at 0, dark at 255
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", ramp.tobytes())
    image = decode_image(save(ds, tmp_path / "palette.dcm"))
    np.testing.assert_allclose(image[0], ramp[:8] / 65535.0, atol=1e-4)  # not indices / 255
    assert image[0, 0] > 0.99


def test_modality_then_voi_then_monochrome1(tmp_path: Path) -> None:
    stored = np.array([[0, 500, 1000, 1500, 2000]], dtype=np.uint16)
    # modality: HU = 2 * stored - 1000 -> [-1000, 0, 1000, 2000, 3000]; window on HU 0..2000
    tags = {"RescaleSlope": 2, "RescaleIntercept": -1000, "WindowCenter": 1000,
            "WindowWidth": 2001}
    mono2 = decode_image(save(make_dataset(stored, tags=tags), tmp_path / "m2.dcm"))
    np.testing.assert_allclose(mono2[0], [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-3)
    mono1 = decode_image(save(make_dataset(stored, photometric="MONOCHROME1", tags=tags),
                              tmp_path / "m1.dcm"))
    np.testing.assert_allclose(mono1[0], 1.0 - mono2[0], atol=1e-6)


def test_voi_lut_sequence_applies_to_modality_values(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset

    stored = np.array([[0, 1, 2, 3]], dtype=np.uint16)
    ds = make_dataset(stored, tags={"RescaleSlope": 1, "RescaleIntercept": 10})
    item = Dataset()
    item.LUTDescriptor = [4, 10, 8]  # 4 entries, first maps modality value 10
    item.LUTData = np.array([0, 85, 170, 255], "<u2").tobytes()
    ds.VOILUTSequence = [item]
    image = decode_image(save(ds, tmp_path / "voi.dcm"))
    np.testing.assert_allclose(image[0], [0.0, 1 / 3, 2 / 3, 1.0], atol=1e-3)


def test_only_allowlisted_tags_are_described(tmp_path: Path) -> None:
    tags = {"InstitutionName": "Nowhere General", "PatientID": "P1", "Manufacturer": "Acme"}
    path = save(make_dataset(phantom(4), tags=tags), tmp_path / "t.dcm")
    _, props = decode_described(path, path.read_bytes())
    assert props["manufacturer"] == "Acme" and props["modality"] == "DX"
    assert "institution" not in props
    assert "Nowhere" not in repr(props) and "P1" not in repr(props.values())


def test_frames_count_against_the_pixel_limit(tmp_path: Path) -> None:
    frames = np.stack([phantom(i, 32) for i in range(6)])
    path = save(make_dataset(frames, frames=6), tmp_path / "multi.dcm")
    assert decode_image(path, max_pixels=6 * 32 * 32).shape == (32, 32)
    with pytest.raises(ImageDecodeError) as err:
        decode_image(path, max_pixels=5 * 32 * 32)
    assert err.value.kind == "too-large" and "6 frames" in err.value.reason


def test_only_the_first_frame_is_decoded(tmp_path: Path) -> None:
    frames = np.stack([phantom(1, 32), np.zeros((32, 32), np.uint16)])
    ds = encode(make_dataset(frames, frames=2), uid.RLELossless)
    image = decode_image(save(ds, tmp_path / "rle2.dcm"))
    np.testing.assert_allclose(image, reference(phantom(1, 32)), atol=1e-6)


def deflated_file(path: Path, ds, extra: bytes = b"", zeros_mib: int = 0) -> Path:
    """``ds`` written Deflated by hand, its body followed by ``extra`` and zeros."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset, write_file_meta_info

    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    head = DicomBytesIO()
    head.is_little_endian, head.is_implicit_VR = True, False
    head.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(head, ds.file_meta, enforce_standard=True)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    write_dataset(body, ds)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    stream = packer.compress(body.getvalue() + extra)
    zeros = bytes(1 << 20)
    for _ in range(zeros_mib):
        stream += packer.compress(zeros)
    path.write_bytes(head.getvalue() + stream + packer.flush())
    return path


def test_deflated_file_made_by_hand_decodes(tmp_path: Path) -> None:
    pixels = phantom(9, 32)
    path = deflated_file(tmp_path / "ok.dcm", make_dataset(pixels))
    np.testing.assert_allclose(decode_image(path), reference(pixels), atol=1e-6)


def test_deflate_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    # Rows = Columns = 8, then a 256 MiB element after the pixel data: 8 x 8 pixels need
    # 128 bytes, so inflation stops long before the bomb goes off
    bomb = b"\x09\x00\x10\x00OB\x00\x00" + (256 << 20).to_bytes(4, "little")
    path = deflated_file(tmp_path / "bomb.dcm", make_dataset(np.zeros((8, 8), np.uint16)),
                         extra=bomb, zeros_mib=256)
    assert path.stat().st_size < 2 << 20
    with pytest.raises(ImageDecodeError) as err:
        decode_image(path)
    assert err.value.kind == "too-large" and "Deflated" in err.value.reason


def test_pixel_data_shorter_than_declared_is_truncated(tmp_path: Path) -> None:
    ds = make_dataset(phantom(5, 32))
    ds.PixelData = ds.PixelData[:-64]
    with pytest.raises(ImageDecodeError) as err:
        decode_image(save(ds, tmp_path / "short.dcm"))
    assert err.value.kind == "truncated" and "needs 2,048" in err.value.reason


def test_pixel_data_a_frame_longer_than_declared_is_refused(tmp_path: Path) -> None:
    ds = make_dataset(phantom(5, 32))
    ds.PixelData = ds.PixelData * 2
    with pytest.raises(ImageDecodeError) as err:
        decode_image(save(ds, tmp_path / "long.dcm"))
    assert err.value.kind == "corrupt"


def test_unknown_compression_names_the_syntax(tmp_path: Path) -> None:
    ds = encode(make_dataset(phantom(6, 32)), uid.RLELossless)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2: no image decoder
    with pytest.raises(ImageDecodeError) as err:
        decode_image(save(ds, tmp_path / "jxl.dcm"))
    assert err.value.kind == "unsupported-compression"
    assert "1.2.840.10008.1.2.4.100" in err.value.reason and "\n" not in str(err.value)


def test_missing_decoder_names_the_package(tmp_path: Path, monkeypatch) -> None:
    import pydicom.pixels as pixels

    path = save(encode(make_dataset(phantom(7, 32)), uid.JPEGLSLossless), tmp_path / "jls.dcm")
    real = pixels.get_decoder

    class Unavailable:
        is_available = False

    monkeypatch.setattr(pixels, "get_decoder",
                        lambda ts: Unavailable() if ts == uid.JPEGLSLossless else real(ts))
    with pytest.raises(ImageDecodeError) as err:
        decode_image(path)
    assert err.value.kind == "unsupported-compression"
    assert "JPEG-LS Lossless" in err.value.reason and "pyjpegls" in err.value.reason


def test_corrupt_codestream_is_refused_as_corrupt_not_truncated(tmp_path: Path) -> None:
    from pydicom.encaps import encapsulate

    ds = encode(make_dataset(phantom(8, 32)), uid.JPEG2000Lossless)
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\x13" * 200])
    with pytest.raises(ImageDecodeError) as err:
        decode_image(save(ds, tmp_path / "bad-j2k.dcm"))
    # its SIZ cannot be right, so no decoder is asked
    assert err.value.kind == "corrupt" and "JPEG 2000 Lossless codestream" in err.value.reason
    assert "\n" not in err.value.reason


def test_a_file_cut_inside_its_pixel_data_is_truncated(tmp_path: Path) -> None:
    path = save(encode(make_dataset(phantom(9, 64)), uid.JPEGLSLossless), tmp_path / "full.dcm")
    data = path.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: data.index(b"\xe0\x7f\x10\x00") + 40])
    with pytest.raises(ImageDecodeError) as err:
        decode_image(cut)
    assert err.value.kind == "truncated"


def test_a_dcm_file_that_is_not_dicom_says_so(tmp_path: Path) -> None:
    path = tmp_path / "x.dcm"
    path.write_bytes(b"x")
    with pytest.raises(ImageDecodeError) as err:
        decode_image(path)
    assert err.value.kind == "not-an-image" and "not a DICOM file" in err.value.reason



def test_caches_miss_when_the_decoder_changes(tmp_path: Path, monkeypatch) -> None:
    import bamnet_core.imaging.decode as decoding
    from bamnet_core.data import property_cache
    from bamnet_core.data.image_cache import ImageCache
    from bamnet_core.imaging.preprocess import PreprocessSpec

    cache, spec = ImageCache(tmp_path / "cache"), PreprocessSpec(size=8, channels=1)
    cache.put("ab" * 32, spec, np.full((8, 8), 0.5, np.float32))
    assert cache.get("ab" * 32, spec) is not None
    before = property_cache.entry_path("ab" * 32)
    monkeypatch.setattr(decoding, "DECODER_VERSION", decoding.DECODER_VERSION + 1)
    assert cache.get("ab" * 32, spec) is None  # old pixels are never served
    assert property_cache.entry_path("ab" * 32) != before


@pytest.mark.parametrize("syntax", [uid.JPEG2000Lossless, uid.JPEGLSLossless, uid.JPEGLosslessSV1],
                         ids=lambda s: s.name)
def test_a_codestream_larger_than_the_header_is_refused_before_decoding(
        tmp_path: Path, syntax: str) -> None:
    ds = encode(make_dataset(phantom(3, 64)), syntax)
    ds.Rows = ds.Columns = 16  # the codestream still says 64 x 64
    with pytest.raises(ImageDecodeError) as err:
        decode_image(save(ds, tmp_path / "liar.dcm"))
    assert err.value.kind == "corrupt" and "declares 64x64 pixels, the header 16x16" in str(
        err.value)

