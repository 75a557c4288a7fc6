"""The one preprocessing definition: decoded grayscale in [0, 1] -> model input.

A :class:`PreprocessSpec` is saved in every run folder and embedded in every
exported model, so training, export and scoring preprocess identically.
Scaling modes take the names Keras uses for them
(``keras.applications.imagenet_utils.preprocess_input``): ``caffe``,
``tf`` and ``torch``, plus ``unit`` for plain [0, 1].
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from typing import Any, Literal

import cv2
import numpy as np

from ..errors import ConfigError

Scaling = Literal["unit", "caffe", "tf", "torch"]
SCALINGS: tuple[str, ...] = ("unit", "caffe", "tf", "torch")
# Earlier names of a scaling mode -> today's; old run folders and models still load.
SCALING_ALIASES = {"vgg16": "caffe"}
INTERPOLATIONS = {
    "area": cv2.INTER_AREA,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "nearest": cv2.INTER_NEAREST,
    "lanczos": cv2.INTER_LANCZOS4,
}
# "caffe": BGR order, ImageNet mean per channel, 0-255 range.
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
# "torch": [0, 1], then ImageNet mean and standard deviation per channel (RGB).
TORCH_MEAN_RGB = np.array([0.485, 0.456, 0.406], dtype=np.float32)
TORCH_STD_RGB = np.array([0.229, 0.224, 0.225], dtype=np.float32)


SPEC_JSON_LIMIT = 4096  # characters: a spec's JSON takes about 100
MAX_SIZE = 4096  # the largest model input side: 4096 x 4096 x 3 float32 is 192 MiB per image


def canonical_scaling(name: str) -> str:
    """Today's name of a scaling mode (``vgg16`` -> ``caffe``); unknown names unchanged."""
    return SCALING_ALIASES.get(name, name)


@dataclass(frozen=True)
class PreprocessSpec:
    """How a decoded grayscale image becomes model input.

    :param size: output height and width in pixels.
    :param channels: 1, or 3 (grayscale replicated, as ImageNet backbones expect).
    :param scaling: ``unit`` keeps [0, 1]; ``caffe`` is 0-255 with the ImageNet
        mean subtracted (BGR); ``tf`` is [-1, 1]; ``torch`` is [0, 1]
        normalised by the ImageNet mean and standard deviation. ``caffe`` and
        ``torch`` need 3 channels. ``vgg16`` is accepted as the old name of ``caffe``.
    :param interpolation: resize filter (``area``, ``linear``, ``cubic``,
        ``nearest``, ``lanczos``).
    :param aspect: ``"stretch"`` resizes to a square; ``"pad"`` keeps the
        aspect ratio and pads with black.
    """

    size: int = 224
    channels: Literal[1, 3] = 3
    scaling: Scaling = "unit"
    interpolation: str = "area"
    aspect: Literal["stretch", "pad"] = "stretch"

    def __post_init__(self) -> None:
        object.__setattr__(self, "scaling", canonical_scaling(self.scaling))
        if not isinstance(self.size, int) or isinstance(self.size, bool) or \
                not 8 <= self.size <= MAX_SIZE:
            raise ConfigError(f"preprocess size must be an integer from 8 to {MAX_SIZE}, got "
                              f"{self.size!r}")
        if self.channels not in (1, 3):
            raise ConfigError(f"preprocess channels must be 1 or 3, got {self.channels!r}")
        if self.scaling not in SCALINGS:
            raise ConfigError(f"preprocess scaling {self.scaling!r} unknown; one of "
                              f"{', '.join(SCALINGS)}")
        if self.scaling in ("caffe", "torch") and self.channels != 3:
            raise ConfigError(f"preprocess scaling {self.scaling!r} needs channels = 3")
        if self.interpolation not in INTERPOLATIONS:
            raise ConfigError(
                f"preprocess interpolation {self.interpolation!r} unknown; "
                f"one of {', '.join(INTERPOLATIONS)}"
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
        """Inverse of :meth:`to_json`; a bad document is a :class:`ConfigError`.

        Read with care, since it may come from a model file anyone made: its
        length is bounded (a spec is a few dozen bytes), it must be one JSON
        object of the spec's own keys, and each value is checked.
        """
        hint = "it is written by bamnet; regenerate it"
        if len(text) > SPEC_JSON_LIMIT:
            raise ConfigError(f"invalid preprocessing spec: {len(text):,} characters, where a "
                              f"spec takes under {SPEC_JSON_LIMIT:,}", hint=hint)
        try:
            fields = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise ConfigError(f"invalid preprocessing spec: not JSON ({reason})",
                              hint=hint) from None
        if not isinstance(fields, dict):
            raise ConfigError(f"invalid preprocessing spec: a JSON {type(fields).__name__}, "
                              "not an object of its keys", hint=hint)
        known = [f.name for f in dataclass_fields(cls)]
        unknown = sorted(str(k)[:40] for k in fields if k not in known)
        if unknown:
            raise ConfigError(f"invalid preprocessing spec: unknown key "
                              f"{', '.join(map(repr, unknown[:5]))} (a spec has "
                              f"{', '.join(known)})", hint=hint)
        return cls(**fields)

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
        interp = INTERPOLATIONS[self.interpolation]
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
        return np.asarray(self.from_unit(out), dtype=np.float32)

    def from_unit(self, x: Any) -> Any:
        """Map [0, 1] pixels (array or tensor, channels last) to this spec's scaling."""
        if self.scaling == "caffe":
            return x * 255.0 - CAFFE_MEAN_BGR
        if self.scaling == "tf":
            return x * 2.0 - 1.0
        if self.scaling == "torch":
            return (x - TORCH_MEAN_RGB) / TORCH_STD_RGB
        return x

    def to_unit(self, x: Any) -> Any:
        """Inverse of :meth:`from_unit`: model input back to [0, 1] pixels."""
        if self.scaling == "caffe":
            return (x + CAFFE_MEAN_BGR) / 255.0
        if self.scaling == "tf":
            return (x + 1.0) / 2.0
        if self.scaling == "torch":
            return x * TORCH_STD_RGB + TORCH_MEAN_RGB
        return x
