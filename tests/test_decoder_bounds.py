"""No decoder runs on a codestream that declares more than the header allows, wherever it says so.

Each file is built in code: a 256x256 DICOM whose frame hides a second frame
header behind 1.1 MiB of application segments, or after its scan, or a JPEG
2000 frame of the right size with 16,384 components. Each is refused in one
line before any decoder allocates, and the decoding child's peak RSS stays
near what importing the decoders costs (before: 636 MB and 1.5 GB).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from dicom_fixtures import encode, make_dataset, phantom, save
from pydicom import uid
from pydicom.encaps import encapsulate, get_frame

from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging.decode import decode_image

HUGE = 16000  # a frame this size is 256 MB of 8-bit samples, 512 MB of 16-bit ones
# peak RSS a refusal may reach: Python with numpy, OpenCV, pydicom and its codecs imported,
# plus the file; a decode of what the hidden header declares adds hundreds of MB
PEAK_MIB = 300

MEASURED = """\
import json, resource, sys
from bamnet_core.errors import ImageDecodeError
from bamnet_core.imaging.decode import decode_image
try:
    decode_image(sys.argv[1])
    outcome = "decoded"
except ImageDecodeError as exc:
    outcome = f"{exc.kind}: {exc.reason}"
except Exception as exc:
    outcome = f"unexpected {type(exc).__name__}: {exc}"
# this process's own high-water mark: VmHWM belongs to the memory image exec made, while
# ru_maxrss keeps the forking parent's (a test suite grown to gigabytes) across exec
try:
    peak = next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps([outcome, peak]))
"""


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def app_padding(total: int = 1_150_000) -> bytes:
    """Application segments (APP15) adding up to ``total`` bytes: 1.1 MiB by default."""
    chunk = segment(0xEF, b"\x00" * 65000)
    return chunk * (total // len(chunk) + 1)


def sof_at(stream: bytes, markers: frozenset[int]) -> int:
    at = 2
    while stream[at + 1] not in markers:
        at += 2 + int.from_bytes(stream[at + 2:at + 4], "big")
    return at


def resize_sof(stream: bytes, at: int, rows: int, columns: int) -> bytes:
    return stream[:at + 5] + struct.pack(">HH", rows, columns) + stream[at + 9:]


def dicom_with_frame(tmp_path: Path, name: str, syntax: str, frame: bytes, *,
                     bits: int = 8) -> Path:
    ds = make_dataset(phantom(1, 256) >> 4 if bits == 8 else phantom(1, 256), bits=bits)
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    return save(ds, tmp_path / name)


def baseline_jpeg() -> bytes:
    ok, buf = cv2.imencode(".jpg", (phantom(1, 256) >> 4).astype(np.uint8))
    assert ok
    return buf.tobytes()


def jpeg_ls_frame() -> bytes:
    ds = encode(make_dataset(phantom(2, 256)), uid.JPEGLSLossless)
    return bytes(get_frame(ds.PixelData, 0, number_of_frames=1))


def with_components(stream: bytes, soc: int, components: int) -> bytes:
    """``stream`` whose JPEG 2000 SIZ (after SOC at ``soc``) declares ``components``."""
    at = soc + 4  # Lsiz
    lsiz = int.from_bytes(stream[at:at + 2], "big")
    one = stream[at + 38:at + 41]  # the first component's Ssiz, XRsiz, YRsiz
    siz = (struct.pack(">H", 38 + 3 * components) + stream[at + 2:at + 36]
           + struct.pack(">H", components) + one * components)
    return stream[:at] + siz + stream[at + lsiz:]


def j2k_frame(components: int) -> bytes:
    """A 256x256 JPEG 2000 codestream whose SIZ declares ``components`` components."""
    ds = encode(make_dataset(phantom(3, 256)), uid.JPEG2000Lossless)
    return with_components(bytes(get_frame(ds.PixelData, 0, number_of_frames=1)), 0, components)


def refused(path: Path) -> tuple[str, int]:
    """The child's one-line outcome and its peak RSS in KiB."""
    done = subprocess.run([sys.executable, "-c", MEASURED, str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome, peak_kib = json.loads(done.stdout.splitlines()[-1])
    return outcome, peak_kib


def case(tmp_path: Path, name: str) -> Path:
    jpeg = baseline_jpeg()
    if name == "jpeg-sof-after-1.1MiB":
        at = sof_at(jpeg, frozenset({0xC0}))
        return dicom_with_frame(tmp_path, "late-sof.dcm", uid.JPEGBaseline8Bit,
                                jpeg[:2] + app_padding() + resize_sof(jpeg, at, HUGE, HUGE)[2:])
    if name == "jpeg-second-sof-after-the-scan":
        at = sof_at(jpeg, frozenset({0xC0}))
        sof = jpeg[at:at + 2 + int.from_bytes(jpeg[at + 2:at + 4], "big")]
        second = resize_sof(sof, 0, HUGE, HUGE)
        return dicom_with_frame(tmp_path, "two-sof.dcm", uid.JPEGBaseline8Bit,
                                jpeg[:-2] + second + jpeg[-2:])
    if name == "jpeg-ls-sof55-after-1.1MiB":
        jls = jpeg_ls_frame()
        at = sof_at(jls, frozenset({0xF7}))
        return dicom_with_frame(tmp_path, "late-sof55.dcm", uid.JPEGLSLossless,
                                jls[:2] + app_padding() + resize_sof(jls, at, HUGE, HUGE)[2:],
                                bits=12)
    if name == "jpeg-ls-oversize-lse":
        jls = jpeg_ls_frame()
        at = sof_at(jls, frozenset({0xF7}))
        lse = segment(0xF8, b"\x04\x04" + struct.pack(">II", HUGE, HUGE))
        patched = resize_sof(jls, at, 0, 0)
        return dicom_with_frame(tmp_path, "lse.dcm", uid.JPEGLSLossless,
                                patched[:2] + lse + patched[2:], bits=12)
    assert name == "j2k-16384-components"
    return dicom_with_frame(tmp_path, "components.dcm", uid.JPEG2000Lossless,
                            j2k_frame(16384), bits=12)


EXPECTED = {
    "jpeg-sof-after-1.1MiB": "declares 16000x16000 pixels, the header 256x256",
    "jpeg-second-sof-after-the-scan": "frame headers disagree (256x256x1, 16000x16000x1)",
    "jpeg-ls-sof55-after-1.1MiB": "declares 16000x16000 pixels, the header 256x256",
    "jpeg-ls-oversize-lse": "declares 16000x16000 pixels, the header 256x256",
    "j2k-16384-components": "declares 16384 components, the header 1 samples per pixel",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_frame_that_declares_more_is_refused_before_decoding(tmp_path, name):
    outcome, peak_kib = refused(case(tmp_path, name))
    assert outcome.startswith("corrupt: corrupt"), outcome
    assert EXPECTED[name] in outcome, outcome
    assert peak_kib < PEAK_MIB * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"


def test_the_same_frames_untouched_decode(tmp_path):
    for name, syntax, frame, bits in (("plain.dcm", uid.JPEGBaseline8Bit, baseline_jpeg(), 8),
                                      ("plain-jls.dcm", uid.JPEGLSLossless, jpeg_ls_frame(), 12),
                                      ("plain-j2k.dcm", uid.JPEG2000Lossless, j2k_frame(1), 12)):
        image = decode_image(dicom_with_frame(tmp_path, name, syntax, frame, bits=bits))
        assert image.shape == (256, 256)


def test_a_raster_jpeg_with_a_second_frame_header_is_refused(tmp_path):
    jpeg = baseline_jpeg()
    at = sof_at(jpeg, frozenset({0xC0}))
    sof = jpeg[at:at + 2 + int.from_bytes(jpeg[at + 2:at + 4], "big")]
    path = tmp_path / "two-sof.jpg"
    path.write_bytes(jpeg[:-2] + resize_sof(sof, 0, HUGE, HUGE) + jpeg[-2:])
    with pytest.raises(ImageDecodeError) as err:
        decode_image(path)
    assert err.value.kind == "corrupt" and "frame headers disagree" in err.value.reason


def test_a_raster_jpeg_2000_with_thousands_of_components_is_refused(tmp_path):
    ok, jp2 = cv2.imencode(".jp2", (phantom(4, 256) >> 4).astype(np.uint8))
    assert ok
    jp2 = jp2.tobytes()
    box = jp2.index(b"jp2c") - 4  # the codestream box, the last one: it grows to the end
    patched = with_components(jp2, box + 8, 16384)
    patched = patched[:box] + struct.pack(">I", len(patched) - box) + patched[box + 4:]
    path = tmp_path / "components.png"  # the name does not matter: the bytes say JPEG 2000
    path.write_bytes(patched)
    outcome, peak_kib = refused(path)  # Pillow's header parser already refuses it; so would we
    assert outcome.startswith(("not-an-image", "corrupt")), outcome
    assert peak_kib < PEAK_MIB * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"
