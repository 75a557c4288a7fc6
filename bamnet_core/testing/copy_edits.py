"""The edits a copy of an image usually goes through, for tests and benchmarks of overlap.

Each edit takes an 8-bit grayscale image and returns the edited copy's pixels
(JPEG edits are encoded and decoded in memory). The kinds are the ones the
overlap check promises to survive: JPEG at quality 50 and up, resizing from
80% to 120%, padding, cropping up to 10% a side, a left-right flip,
brightness or contrast changed by up to 20%, and a couple of these together.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Edit = Callable[[np.ndarray], np.ndarray]


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """The image saved as JPEG at ``quality`` and read back."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def resize(image: np.ndarray, factor: float) -> np.ndarray:
    """The image scaled by ``factor`` on both axes."""
    return cv2.resize(image, None, fx=factor, fy=factor,
                      interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def shrink_and_pad(image: np.ndarray, factor: float = 0.9) -> np.ndarray:
    """The image shrunk by ``factor`` and padded back to its size with black."""
    small = resize(image, factor)
    out = np.zeros_like(image)
    y, x = (image.shape[0] - small.shape[0]) // 2, (image.shape[1] - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def pad(image: np.ndarray) -> np.ndarray:
    """The image with a white border added on three sides (unequal widths)."""
    h, w = image.shape[:2]
    return cv2.copyMakeBorder(image, h // 8, h // 25, 0, w // 6, cv2.BORDER_CONSTANT, value=255)


def crop(image: np.ndarray, top: float, bottom: float, left: float, right: float
         ) -> np.ndarray:
    """The image without the given shares of each side."""
    h, w = image.shape[:2]
    return image[int(h * top):h - int(h * bottom), int(w * left):w - int(w * right)]


def gain(image: np.ndarray, factor: float, *, contrast: bool = False) -> np.ndarray:
    """Brightness (or, with ``contrast``, contrast about the mean) times ``factor``, clipped."""
    x = image.astype(np.float32)
    centre = float(x.mean()) if contrast else 0.0
    return np.clip((x - centre) * factor + centre, 0, 255).astype(np.uint8)


def flip(image: np.ndarray) -> np.ndarray:
    """The image flipped left-right."""
    return np.ascontiguousarray(image[:, ::-1])


COPY_EDITS: dict[str, Edit] = {
    "brightness +10%": lambda im: gain(im, 1.1),
    "brightness +20%": lambda im: gain(im, 1.2),
    "brightness -20%": lambda im: gain(im, 0.8),
    "contrast +20%": lambda im: gain(im, 1.2, contrast=True),
    "contrast -20%": lambda im: gain(im, 0.8, contrast=True),
    "JPEG quality 60": lambda im: jpeg(im, 60),
    "JPEG quality 50": lambda im: jpeg(im, 50),
    "resized to 80%": lambda im: resize(im, 0.8),
    "resized to 120%": lambda im: resize(im, 1.2),
    "shrunk to 90% and padded back": shrink_and_pad,
    "padded": pad,
    "flipped left-right": flip,
    "cropped 5% on each side": lambda im: crop(im, .05, .05, .05, .05),
    "cropped 10% on each side": lambda im: crop(im, .1, .1, .1, .1),
    "cropped 10% on two sides": lambda im: crop(im, .1, 0, 0, .1),
    "flipped, cropped 5%, JPEG 60": lambda im: jpeg(crop(flip(im), .05, .05, .05, .05), 60),
    "resized to 90%, brightness +15%, JPEG 50": lambda im: jpeg(gain(resize(im, .9), 1.15), 50),
    "padded and flipped": lambda im: pad(flip(im)),
    "cropped 10% on two sides, contrast +20%": lambda im: gain(crop(im, .1, 0, 0, .1), 1.2,
                                                               contrast=True),
}
