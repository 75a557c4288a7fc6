"""One file (or a discovery error) to one model input, or the reason it failed.

Both engines call :func:`load_input_or_reason`: local scoring from its decode
threads, the Ray engine from its decode tasks. So a bad file gets the same
error text whichever engine scored it.
"""

from __future__ import annotations

import numpy as np

from ..errors import ImageDecodeError
from ..imaging.decode import decode_bytes, read_image_bytes
from ..imaging.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from ..imaging.preprocess import PreprocessSpec
from .discovery import Item


def load_input_or_reason(item: Item, spec: PreprocessSpec, *,
                         max_pixels: int = DEFAULT_MAX_PIXELS,
                         max_bytes: int = DEFAULT_MAX_BYTES,
                         data: bytes | None = None) -> np.ndarray | str:
    """The preprocessed input for ``item``, or why it cannot be scored.

    :param data: the file's bytes when the caller already read them (from an
        object store); otherwise the file is read with :func:`read_image_bytes`
        (refused from ``fstat`` when not a regular file or over ``max_bytes``).
    """
    if isinstance(item, ImageDecodeError):
        return item.reason
    from pathlib import Path

    try:
        raw = data if data is not None else read_image_bytes(Path(item), max_bytes=max_bytes)
        return spec.apply(decode_bytes(Path(item), raw, max_pixels=max_pixels))
    except ImageDecodeError as exc:
        return exc.reason
    except Exception as exc:  # a decoder bug must not take down a million-file run
        return f"unexpected {type(exc).__name__}: {exc}"
