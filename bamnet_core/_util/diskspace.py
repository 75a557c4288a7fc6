"""Disk-full errors recognised, and free space checked before large writes."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from ..errors import DiskFullError

FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it wraps) is "no space left" or "quota exceeded"."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in FULL:
            return True
        if "[Errno 28]" in str(current) or "No space left on device" in str(current):
            return True  # h5py and others re-raise ENOSPC as their own error type
        current = current.__cause__ or current.__context__
    return False


def disk_full_error(exc: BaseException, where: str | Path,
                    then: str | None = None) -> DiskFullError:
    """One error naming the path being written and "no space left".

    :param then: the command that continues once space is freed.
    """
    named = getattr(exc, "filename", None) or where
    return DiskFullError(f"no space left on device while writing {named}",
                         hint=f"free space on the disk of {where}, then "
                              + (f"continue with: {then}" if then else "try again"))


def check_free_space(folder: str | Path, needed: int, what: str) -> None:
    """Raise :class:`DiskFullError` when ``folder``'s disk has less than ``needed`` bytes free.

    Cheap (one ``statvfs``); called before large writes such as checkpoints,
    so a full disk is named before a half-written file, not after.
    """
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell: let the write itself decide
    if free < needed:
        raise DiskFullError(f"no space left on device for {what}: {free / 1e6:,.1f} MB free "
                            f"in {folder}, about {needed / 1e6:,.1f} MB needed",
                            hint="free space on that disk (or choose another folder), then "
                                 "continue")


__all__ = ["FULL", "check_free_space", "disk_full_error", "is_disk_full"]
