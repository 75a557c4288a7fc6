"""Images under an object-store prefix or any ``pyarrow.fs`` URI (``s3://``, ``gs://``, ...).

The Ray engine scores these as it scores local files: the listing keeps image
suffixes, the size limit is applied from the listing's file info before a
byte is read, and each failure becomes an error row. Needs ``pyarrow``
(installed with ``bamnet[distributed]``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..errors import ImageDecodeError
from ..imaging.formats import IMAGE_SUFFIXES
from .discovery import Item


def is_uri(path: str) -> bool:
    """True for ``scheme://...`` (a pyarrow filesystem URI), False for a local path."""
    head, sep, _ = path.partition("://")
    return bool(sep) and head.isidentifier() and not os.path.exists(path)


def iter_uri_images(uri: str, *, suffixes: frozenset[str] = IMAGE_SUFFIXES) -> Iterator[Item]:
    """Image files under ``uri`` (a prefix, or one file), sorted, as URIs."""
    from pyarrow import fs

    try:
        filesystem, root = fs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(root)
        if info.type == fs.FileType.File:
            yield uri
            return
        if info.type == fs.FileType.NotFound:
            yield ImageDecodeError(uri, "file not found")
            return
        listing = filesystem.get_file_info(fs.FileSelector(root, recursive=True))
    except (OSError, ValueError) as exc:
        yield ImageDecodeError(uri, f"cannot list: {exc}")
        return
    scheme = uri.split("://", 1)[0]
    for entry in sorted(listing, key=lambda e: e.path):
        if entry.type == fs.FileType.File and \
                os.path.splitext(entry.base_name)[1].lower() in suffixes:
            yield f"{scheme}://{entry.path}"


def read_uri_bytes(uri: str, *, max_bytes: int) -> bytes:
    """The bytes of one object, refused from its file info when over ``max_bytes``."""
    from pyarrow import fs

    try:
        filesystem, path = fs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(path)
        if info.type == fs.FileType.NotFound:
            raise ImageDecodeError(uri, "file not found")
        if info.type != fs.FileType.File:
            raise ImageDecodeError(uri, "not a regular file", kind="not-a-file")
        if info.size is not None and info.size > max_bytes:
            raise ImageDecodeError(uri, f"too large: {info.size:,} bytes (limit "
                                   f"{max_bytes:,})", kind="too-large")
        with filesystem.open_input_stream(path) as stream:
            data = stream.read(max_bytes + 1)
    except (OSError, ValueError) as exc:
        raise ImageDecodeError(uri, f"unreadable: {exc}") from None
    if len(data) > max_bytes:
        raise ImageDecodeError(uri, f"too large: over {max_bytes:,} bytes", kind="too-large")
    return data
