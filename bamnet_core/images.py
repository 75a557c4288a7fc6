"""Decode any image a radiology folder holds, and the one preprocessing definition.

:func:`decode_image` turns a file (JPEG, PNG, BMP, TIFF, DICOM) into a
grayscale float32 array in [0, 1], or raises :class:`ImageDecodeError` naming
the file and the reason. :class:`PreprocessSpec` turns that array into model
input. Training, export and scoring all go through these two, so they
preprocess identically by construction.

This module imports no TensorFlow: scoring depends on it.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from .errors import ConfigError, ImageDecodeError

# OpenCV's decoders log warnings about corrupt input to stderr; the library never prints,
# and every failure becomes an ImageDecodeError instead.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

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
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"),
          (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))
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
        """Inverse of :meth:`to_json`; a bad document is a :class:`ConfigError`."""
        try:
            fields = json.loads(text)
            return cls(**fields)
        except (json.JSONDecodeError, TypeError) as exc:
            raise ConfigError(f"invalid preprocessing spec JSON: {exc}",
                              hint="it is written by bamnet; regenerate it") from None

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> PreprocessSpec:
        """Build from a resolved ``[preprocess]`` config section."""
        return cls(**{k: section[k] for k in ("size", "channels", "scaling", "interpolation",
                                              "aspect")})

    def apply(self, gray: np.ndarray) -> np.ndarray:
        """Resize, replicate channels and scale a [0, 1] grayscale image.

        :returns: float32 array of shape :attr:`input_shape`.
        """
        return self.finish(self.resize(gray))

    def resize(self, gray: np.ndarray) -> np.ndarray:
        """Resize a [0, 1] grayscale image to ``(size, size)``, quantised to 16 bits.

        The quantisation makes the result exactly representable as ``uint16``,
        so an image read back from the decode cache equals a fresh decode.
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
        return (np.round(np.clip(out, 0.0, 1.0) * 65535.0) / 65535.0).astype(np.float32)

    def finish(self, resized: np.ndarray) -> np.ndarray:
        """Replicate channels and scale a resized image (see :meth:`resize`)."""
        out = np.asarray(resized, dtype=np.float32)[..., None]
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
    :raises ImageDecodeError: naming the path and the reason; ``kind`` says
        which of empty, truncated, not-an-image, too-large, no-pixels or
        unreadable it was.
    """
    p = Path(path)
    return decode_bytes(p, read_image_bytes(p), max_pixels=max_pixels)


def read_image_bytes(path: Path) -> bytes:
    """Read a file's bytes, turning every OS failure into an :class:`ImageDecodeError`."""
    try:
        if path.is_dir():
            raise ImageDecodeError(str(path), "is a directory, not an image",
                                   kind="not-an-image")
        return path.read_bytes()
    except ImageDecodeError:
        raise
    except FileNotFoundError:
        raise ImageDecodeError(str(path), "file not found") from None
    except OSError as exc:
        raise ImageDecodeError(str(path), f"unreadable: {exc.strerror or exc}") from None


def decode_bytes(path: Path, data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode the bytes of ``path`` (already read) like :func:`decode_image`."""
    if not data:
        raise ImageDecodeError(str(path), "empty file (0 bytes)", kind="empty")
    if is_dicom(path, data[:132]):
        from .dicom import decode_dicom

        return decode_dicom(path, data, max_pixels)
    try:
        return _decode_raster(path, data, max_pixels)
    except ImageDecodeError:
        raise
    except Exception as exc:  # a decoder bug must stay a per-file error
        raise ImageDecodeError(str(path), f"unreadable: {type(exc).__name__}: {exc}") from None


def _raster_size(path: Path, data: bytes, max_pixels: int) -> tuple[int, int] | None:
    """Width and height from the header alone, without decoding pixels."""
    from PIL import Image  # header parser only; pixels are decoded by OpenCV

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return im.size
    except Image.DecompressionBombError:  # Pillow's own guard, looser than ours
        claimed = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise ImageDecodeError(str(path), f"too large: header claims over {claimed:,} pixels "
                               f"(limit {max_pixels:,})", kind="too-large") from None
    except Exception:
        return None


def _format_of(data: bytes) -> str | None:
    """The raster format named by the file's magic bytes, if any."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return None


def _decode_raster(path: Path, data: bytes, max_pixels: int) -> np.ndarray:
    size = _raster_size(path, data, max_pixels)
    if size is None:
        fmt = _format_of(data)
        if fmt is not None:
            raise ImageDecodeError(str(path), f"truncated or corrupt {fmt} header "
                                   f"({len(data):,} bytes)", kind="truncated")
        raise ImageDecodeError(str(path), "not an image (no known image format signature)",
                               kind="not-an-image")
    width, height = size
    check_pixel_count(path, width, height, max_pixels)
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-4096:]:
        raise ImageDecodeError(str(path), "truncated JPEG (no end-of-image marker)",
                               kind="truncated")
    buf = np.frombuffer(data, dtype=np.uint8)
    # ANYDEPTH|ANYCOLOR keeps 16-bit samples and applies the EXIF orientation
    image = cv2.imdecode(buf, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if image is None or image.size == 0:
        raise ImageDecodeError(str(path), "corrupt or truncated image data", kind="truncated")
    return to_unit_gray(image)


def check_pixel_count(path: Path, width: int, height: int, max_pixels: int) -> None:
    """Refuse an image whose header claims more than ``max_pixels`` pixels."""
    if width <= 0 or height <= 0:
        raise ImageDecodeError(str(path), f"header claims an empty {width}x{height} image",
                               kind="not-an-image")
    if width * height > max_pixels:
        raise ImageDecodeError(
            str(path), f"too large: header claims {width}x{height} pixels "
            f"(limit {max_pixels:,})", kind="too-large",
            hint="raise the limit (max_pixels) only for files you trust",
        )


def to_unit_gray(image: np.ndarray) -> np.ndarray:
    """Any OpenCV image (gray/BGR/BGRA, 8/16-bit/float) -> float32 gray in [0, 1].

    Alpha is dropped (transparent pixels keep their colour values), colour is
    converted with the ITU-R 601 luma weights.
    """
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
    image = np.nan_to_num(image.astype(np.float32))
    lo, hi = float(image.min()), float(image.max())
    return (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)


def load_input(path: str | Path, spec: PreprocessSpec, *,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode and preprocess one file into model input."""
    return spec.apply(decode_image(path, max_pixels=max_pixels))
