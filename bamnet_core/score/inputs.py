"""One file (or a discovery error) to one model input, or the reason it failed.

Both engines call :func:`load_with_uids`: local scoring from its decode
threads, the Ray engine from its decode tasks. So a bad file gets the same
error text, and a DICOM file the same UIDs, whichever engine scored it.
"""

from __future__ import annotations

import numpy as np

from ..errors import ImageDecodeError
from ..imaging.decode import decode_bytes, read_image_bytes
from ..imaging.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from ..imaging.preprocess import PreprocessSpec
from .discovery import Item
from .uids import InstanceUids, read_uids


def load_with_uids(item: Item, spec: PreprocessSpec, *, uids: bool,
                   max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
                   data: bytes | None = None) -> tuple[np.ndarray | str, InstanceUids | None]:
    """The preprocessed input for ``item``, or why it cannot be scored; with ``uids``,
    the file's DICOM UIDs too.

    :param data: the file's bytes when the caller already read them (from an
        object store); otherwise the file is read with :func:`read_image_bytes`
        (refused from ``fstat`` when not a regular file or over ``max_bytes``).

    The UIDs come from the header of the bytes read for decoding (the file is
    opened once); ``None`` for a file that is not DICOM or was never read.
    """
    if isinstance(item, ImageDecodeError):
        return item.reason, None
    from pathlib import Path

    found = None
    try:
        raw = data if data is not None else read_image_bytes(Path(item), max_bytes=max_bytes)
        found = read_uids(Path(item), raw) if uids else None
        return spec.apply(decode_bytes(Path(item), raw, max_pixels=max_pixels)), found
    except ImageDecodeError as exc:
        return exc.reason, found
    except Exception as exc:  # a decoder bug must not take down a million-file run
        return f"unexpected {type(exc).__name__}: {exc}", found
