"""SHA-256 of a file in fixed chunks: memory stays bounded whatever the file's size.

A FIFO or device is refused, never waited on; the size is what was read, so
a file that grows or shrinks while it is hashed is described as it was read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import NamedTuple

CHUNK = 1 << 20  # 1 MiB: large enough for full hashing speed, small enough to not matter


class Digest(NamedTuple):
    """A file's SHA-256 (hex) and its size in bytes."""

    sha256: str
    size: int


def file_digest(path: str | Path) -> Digest:
    """The SHA-256 and size of the regular file ``path``, read in 1 MiB chunks.

    :raises OSError: when it is missing, unreadable, or not a regular file.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        digest, size = hashlib.sha256(), 0
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        while True:
            n = os.readv(fd, [buffer])
            if not n:
                break
            digest.update(view[:n])
            size += n
        return Digest(digest.hexdigest(), size)
    finally:
        os.close(fd)


def text_digest(text: str) -> str:
    """The SHA-256 (hex) of ``text`` as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
