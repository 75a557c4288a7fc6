"""Decode any image a radiology folder holds, and the one preprocessing definition.

:func:`decode_image` turns a file (JPEG, PNG, BMP, TIFF, DICOM) into a
grayscale float32 array in [0, 1], or raises :class:`ImageDecodeError` naming
the file and the reason. :class:`PreprocessSpec` turns that array into model
input. Training, export and scoring all go through these two, so they
preprocess identically by construction.

This module imports no TensorFlow: scoring depends on it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from .errors import ConfigError, ImageDecodeError

DEFAULT_MAX_PIXELS = 80_000_000
RASTER_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic"})
IMAGE_SUFFIXES = RASTER_SUFFIXES | DICOM_SUFFIXES

_INTERPOLATION = {
    "area": cv2.INTER_AREA,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "nearest": cv2.INTER_NEAREST,
    "lanczos": cv2.INTER_LANCZOS4,
}
# VGG16 "caffe" preprocessing: BGR order, per-channel ImageNet mean, no scaling.
_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


@dataclass(frozen=True)
class PreprocessSpec:
    """How a decoded grayscale image becomes model input.

    :param size: output height and width in pixels.
    :param channels: 1, or 3 (grayscale replicated, as ImageNet backbones expect).
    :param scaling: ``"unit"`` keeps [0, 1]; ``"vgg16"`` is the Keras VGG16
        "caffe" mode (0-255, BGR, ImageNet mean subtracted).
    :param interpolation: resize filter (``area``, ``linear``, ``cubic``,
        ``nearest``, ``lanczos``).
    :param aspect: ``"stretch"`` resizes to a square; ``"pad"`` keeps the
        aspect ratio and pads with black.
    """

    size: int = 224
    channels: Literal[1, 3] = 3
    scaling: Literal["unit", "vgg16"] = "unit"
    interpolation: str = "area"
    aspect: Literal["stretch", "pad"] = "stretch"

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ConfigError(f"preprocess channels must be 1 or 3, got {self.channels!r}")
        if self.scaling not in ("unit", "vgg16"):
            raise ConfigError(f"preprocess scaling must be 'unit' or 'vgg16', got {self.scaling!r}")
        if self.scaling == "vgg16" and self.channels != 3:
            raise ConfigError("preprocess scaling 'vgg16' needs channels = 3")
        if self.interpolation not in _INTERPOLATION:
            raise ConfigError(
                f"preprocess interpolation {self.interpolation!r} unknown; "
                f"one of {', '.join(_INTERPOLATION)}"
            )
        if self.aspect not in ("stretch", "pad"):
            raise ConfigError(f"preprocess aspect must be 'stretch' or 'pad', got {self.aspect!r}")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The model input shape, ``(size, size, channels)``."""
        return (self.size, self.size, self.channels)

    def to_json(self) -> str:
        """Serialise (for the run folder and the ONNX metadata)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PreprocessSpec:
        """Inverse of :meth:`to_json`."""
        return cls(**json.loads(text))

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> PreprocessSpec:
        """Build from a resolved ``[preprocess]`` config section."""
        return cls(**{k: section[k] for k in ("size", "channels", "scaling", "interpolation",
                                              "aspect")})

    def apply(self, gray: np.ndarray) -> np.ndarray:
        """Resize, replicate channels and scale a [0, 1] grayscale image.

        :returns: float32 array of shape :attr:`input_shape`.
        """
        interp = _INTERPOLATION[self.interpolation]
        gray = np.asarray(gray, dtype=np.float32)
        if self.aspect == "stretch":
            out = cv2.resize(gray, (self.size, self.size), interpolation=interp)
        else:
            h, w = gray.shape[:2]
            scale = self.size / max(h, w)
            nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
            resized = cv2.resize(gray, (nw, nh), interpolation=interp)
            out = np.zeros((self.size, self.size), dtype=np.float32)
            top, left = (self.size - nh) // 2, (self.size - nw) // 2
            out[top:top + nh, left:left + nw] = resized
        out = np.clip(out, 0.0, 1.0)[..., None]
        if self.channels == 3:
            out = np.repeat(out, 3, axis=-1)
        if self.scaling == "vgg16":
            out = out * 255.0 - _CAFFE_MEAN_BGR
        return out.astype(np.float32)


def is_dicom(path: Path, head: bytes) -> bool:
    """True for a ``.dcm`` name or a DICOM preamble (``DICM`` at byte 128)."""
    return path.suffix.lower() in DICOM_SUFFIXES or head[128:132] == b"DICM"


def decode_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode one file to a float32 grayscale array in [0, 1].

    :param path: the image file (JPEG, PNG, BMP, TIFF or DICOM).
    :param max_pixels: refuse images claiming more pixels than this, before
        decoding them (decompression-bomb guard).
    :raises ImageDecodeError: naming the path and the reason.
    """
    p = Path(path)
    try:
        if p.is_dir():
            raise ImageDecodeError(str(p), "is a directory, not an image")
        data = p.read_bytes()
    except ImageDecodeError:
        raise
    except FileNotFoundError:
        raise ImageDecodeError(str(p), "file not found") from None
    except OSError as exc:
        raise ImageDecodeError(str(p), f"unreadable: {exc.strerror or exc}") from None
    if not data:
        raise ImageDecodeError(str(p), "empty file (0 bytes)")
    if is_dicom(p, data[:132]):
        return _decode_dicom(p, max_pixels)
    return _decode_raster(p, data, max_pixels)


def _raster_size(path: Path, data: bytes) -> tuple[int, int] | None:
    """Width and height from the header alone, without decoding pixels."""
    from PIL import Image  # header parser only; pixels are decoded by OpenCV

    Image.MAX_IMAGE_PIXELS = None  # we apply our own limit
    try:
        import io

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        return None


def _decode_raster(path: Path, data: bytes, max_pixels: int) -> np.ndarray:
    size = _raster_size(path, data)
    if size is None:
        raise ImageDecodeError(str(path), "not an image (unrecognised or corrupt header)")
    width, height = size
    if width * height > max_pixels:
        raise ImageDecodeError(
            str(path),
            f"too large: header claims {width}x{height} pixels (limit {max_pixels:,})",
            hint="raise the limit only for files you trust",
        )
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-4096:]:
        raise ImageDecodeError(str(path), "truncated JPEG (no end-of-image marker)")
    buf = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buf, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if image is None:
        raise ImageDecodeError(str(path), "corrupt or truncated image data")
    return _to_unit_gray(image)


def _to_unit_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3:
        image = image[..., 0]
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    image = image.astype(np.float32)
    lo, hi = float(np.nanmin(image)), float(np.nanmax(image))
    return (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)


def _decode_dicom(path: Path, max_pixels: int) -> np.ndarray:
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    try:
        ds = pydicom.dcmread(path, force=True)
    except Exception as exc:
        raise ImageDecodeError(str(path), f"unreadable DICOM: {exc}") from None
    if "PixelData" not in ds:
        raise ImageDecodeError(str(path), "DICOM has no pixel data (not an image object)")
    rows, cols = int(ds.get("Rows", 0)), int(ds.get("Columns", 0))
    if rows * cols > max_pixels:
        raise ImageDecodeError(str(path), f"too large: {cols}x{rows} pixels (limit {max_pixels:,})")
    try:
        pixels = ds.pixel_array
    except Exception as exc:
        raise ImageDecodeError(
            str(path), f"cannot decode DICOM pixels: {exc}",
            hint="compressed DICOM may need pylibjpeg or gdcm installed",
        ) from None
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        pixels = pixels[0]
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric in ("RGB", "YBR_FULL", "YBR_FULL_422") or pixels.ndim == 3:
        if pixels.ndim == 3 and pixels.shape[-1] == 3:
            gray = cv2.cvtColor(pixels.astype(np.uint8), cv2.COLOR_RGB2GRAY)
            return gray.astype(np.float32) / 255.0
        raise ImageDecodeError(str(path), f"unsupported DICOM pixel layout {pixels.shape}")
    values = apply_modality_lut(pixels, ds).astype(np.float64)
    windowed = "WindowCenter" in ds or "VOILUTSequence" in ds
    if windowed:
        values = apply_voi_lut(values, ds).astype(np.float64)
        lo, hi = float(values.min()), float(values.max())
    else:
        bits = int(ds.get("BitsStored", 8 * pixels.dtype.itemsize))
        signed = int(ds.get("PixelRepresentation", 0)) == 1
        lo = -(2 ** (bits - 1)) if signed else 0.0
        hi = (2 ** (bits - 1) - 1) if signed else (2**bits - 1)
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        lo, hi = sorted((lo * slope + intercept, hi * slope + intercept))
    unit = np.clip((values - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(values)
    if photometric == "MONOCHROME1":  # 0 is white: invert so air is dark as in MONOCHROME2
        unit = 1.0 - unit
    return unit.astype(np.float32)


def load_input(path: str | Path, spec: PreprocessSpec, *,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode and preprocess one file into model input."""
    return spec.apply(decode_image(path, max_pixels=max_pixels))
