"""One process owns an output at a time: an exclusive lock file beside (or inside) it.

:class:`OutputLock` holds ``fcntl.flock`` on a small lock file that records
the holder's PID, host and start time. A second process that asks for the
same lock is refused at once with :class:`~bamnet_core.errors.LockedError`,
which names the holder. The kernel drops a ``flock`` when its process dies,
however it dies (``kill -9`` included), so a lock file left behind by a dead
process is simply taken over; :attr:`OutputLock.took_over` then describes the
holder it replaced, for a one-line notice.

The lock file is removed on release. A process that opened the file just
before it was removed would lock a file no longer in the folder; acquiring
therefore checks, after locking, that the path still names the locked file,
and tries again if not.

One real file has one writer whatever name it is reached by: the caller names
the lock after the output's resolved path (so a symlink meets the same lock
file), and ``identity`` names the output itself, whose inode is locked too when
it exists (so a hard link, another name for the same device and inode, meets
the same lock).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import LockedError

MAX_HOLDER_BYTES = 4096  # a holder record is ~100 bytes; never read a huge or odd file whole


def describe_holder(holder: dict[str, Any]) -> str:
    """``PID 123 on host h since 2026-01-01T00:00:00+00:00`` from a holder record."""
    return (f"PID {holder.get('pid', '?')} on host {holder.get('host', '?')} since "
            f"{holder.get('started_at', '?')}")


class OutputLock:
    """An exclusive, process-wide lock on one output; use as a context manager.

    :param path: the lock file (e.g. ``scores.csv.lock``, ``RUN/run.lock``).
    :param what: how to name the locked thing in messages (``"output scores.csv"``).
    :param resume_hint: what the refused user should do instead.
    :param identity: the locked output itself; when it exists, its inode is locked too.
    """

    def __init__(self, path: str | Path, what: str, *, resume_hint: str | None = None,
                 identity: str | Path | None = None) -> None:
        self.path = Path(path)
        self.identity = Path(identity) if identity is not None else None
        self._identity_fd: int | None = None
        self.what = what
        self.resume_hint = resume_hint
        self.took_over: str | None = None
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        """Take the lock or raise :class:`LockedError` naming the holder."""
        for _ in range(10):
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise LockedError(
                    f"{self.what} is in use by another bamnet process "
                    f"({describe_holder(holder)}; lock {self.path})",
                    hint=self.resume_hint or "wait for it to finish, or stop it first") from None
            except OSError as exc:
                os.close(fd)
                raise LockedError(f"cannot lock {self.path}: {exc.strerror or exc}",
                                  hint="put the output on a file system that supports "
                                       "locks") from None
            if not _same_file(fd, self.path):  # removed by a releasing holder meanwhile
                os.close(fd)
                continue
            previous = _read_holder(fd)
            if previous.get("pid") is not None:
                self.took_over = (f"took over the lock on {self.what} left by "
                                  f"{describe_holder(previous)}, which is no longer running")
            _write_holder(fd)
            self._fd = fd
            try:
                self._lock_identity()
            except BaseException:
                self.release()
                raise
            return self
        raise LockedError(f"cannot lock {self.path}: it keeps changing",
                          hint="another process is creating and removing it; try again")

    def _lock_identity(self) -> None:
        """Lock the output's own inode, so a hard link to it meets this lock."""
        if self.identity is None:
            return
        try:
            fd = os.open(self.identity, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return  # not there yet: the lock named after its resolved path covers it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise LockedError(
                f"{self.what} is in use by another bamnet process (the same file, "
                "reached by another name)",
                hint=self.resume_hint or "wait for it to finish, or stop it first") from None
        self._identity_fd = fd

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
                           | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as exc:
            raise LockedError(f"cannot create the lock file {self.path}: "
                              f"{exc.strerror or exc}",
                              hint="check that the folder exists and is writable, and that "
                                   "the lock path is a plain file") from None

    def release(self) -> None:
        """Remove the lock file and drop the lock (idempotent)."""
        if self._identity_fd is not None:
            os.close(self._identity_fd)
            self._identity_fd = None
        if self._fd is None:
            return
        try:
            if _same_file(self._fd, self.path):
                self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only folder: the flock still goes with the descriptor
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> OutputLock:
        return self.acquire() if self._fd is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, MAX_HOLDER_BYTES)
        holder = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (OSError, ValueError):
        return {"pid": "?"}  # damaged: someone held it; say so rather than guess
    return holder if isinstance(holder, dict) else {"pid": "?"}


def _write_holder(fd: int) -> None:
    record = {"pid": os.getpid(), "host": socket.gethostname(),
              "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(record) + "\n").encode("utf-8"))
