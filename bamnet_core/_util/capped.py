"""Read a file whole only when it is no larger than a cap, with bounded memory.

The size is taken with ``fstat`` on the opened descriptor and at most the cap
plus one byte is read, so a file of gigabytes (sparse or growing) costs no
more memory than the cap. A FIFO or device is refused, never waited on.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MiB = 1 << 20


class TooLarge(Exception):
    """The file holds more than the cap allows."""

    def __init__(self, path: Path, size: int, cap: int) -> None:
        super().__init__(too_large_message(path, size, cap))
        self.path, self.size, self.cap = path, size, cap


def size_text(n: int) -> str:
    """``n`` bytes in the largest binary unit that keeps it at least 1."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def too_large_message(path: Path, size: int, cap: int) -> str:
    """What to say of a file over its cap: the file, its size and the cap."""
    return f"{path} is {size_text(size)}, over the {size_text(cap)} a {path.name} may hold"


def read_text(path: Path, cap: int) -> str:
    """The UTF-8 text of a regular file of at most ``cap`` bytes (no newline translation).

    :raises TooLarge: when the file is larger than ``cap``.
    :raises OSError: when it is missing, unreadable, or not a regular file.
    :raises UnicodeDecodeError: when it is not UTF-8.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > cap:
            raise TooLarge(path, info.st_size, cap)
        chunks, left = [], cap + 1
        while left > 0:
            chunk = os.read(fd, min(left, 16 * MiB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > cap:  # it grew after fstat
            raise TooLarge(path, len(data), cap)
        return data.decode("utf-8")
    finally:
        os.close(fd)
