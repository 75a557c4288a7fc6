"""Find the images to score, as a stream: files given, and image files under folders.

Folders are walked lazily, one directory at a time, in sorted order, so
scoring starts at once on a folder of millions of files and two runs visit
files in the same order. Files named on the command line are always tried,
whatever their suffix; files found in folders are kept by suffix
(:data:`bamnet_core.images.IMAGE_SUFFIXES`). A path that does not exist, or a
folder that cannot be read, is yielded as an :class:`ImageDecodeError`, so it
becomes an error row rather than disappearing.

This module imports no TensorFlow: scoring depends on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import ImageDecodeError
from ..imaging.formats import IMAGE_SUFFIXES


def iter_image_paths(paths: Iterable[str | Path], *,
                     suffixes: frozenset[str] = IMAGE_SUFFIXES) -> Iterator[str | ImageDecodeError]:
    """Yield image file paths (as strings) under ``paths``, or an error per unreadable path.

    A folder whose name looks like an image (``scan.png/``) is still a folder:
    it is walked like any other.
    """
    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path):
            yield from _walk(path, suffixes)
        elif os.path.lexists(path):
            yield path
        else:
            yield ImageDecodeError(path, "file not found")


def _walk(root: str, suffixes: frozenset[str]) -> Iterator[str | ImageDecodeError]:
    failures: list[OSError] = []
    for folder, dirnames, filenames in os.walk(root, onerror=failures.append):
        while failures:
            exc = failures.pop()
            yield ImageDecodeError(str(exc.filename or folder),
                                   f"cannot list folder: {exc.strerror or exc}")
        dirnames.sort()
        for name in sorted(filenames):
            if os.path.splitext(name)[1].lower() in suffixes:
                yield os.path.join(folder, name)
    while failures:
        exc = failures.pop()
        yield ImageDecodeError(str(exc.filename or root),
                               f"cannot list folder: {exc.strerror or exc}")
