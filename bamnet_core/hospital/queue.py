"""The listener's on-disk queue: a received image is on disk before its sender is told so.

A C-STORE handler writes the bytes to ``incoming/`` (a temporary name), fsyncs them,
renames the file to ``queued/<SOPInstanceUID>.dcm`` and fsyncs the folder; only then
does the sender get "success". So a ``kill -9`` at any moment loses nothing the sender
believes delivered: an interrupted write leaves only a temporary file (removed at the
next start), and the sender, told nothing, sends again. The queue holds at most
``max_files`` images; a full queue answers "out of resources" and the sender retries
later. SRs waiting to go back are marked in ``unsent/`` (one empty file per SR UID).
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

QUEUED, INCOMING, UNSENT = "queued", "incoming", "unsent"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DiskQueue:
    """Received images waiting to be scored, in arrival order, bounded in number.

    :param root: the queue folder (created if missing).
    :param max_files: how many images may wait at once.
    """

    def __init__(self, root: Path, max_files: int) -> None:
        self.root, self.max_files = Path(root), max_files
        for name in (QUEUED, INCOMING, UNSENT):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        for stale in (self.root / INCOMING).iterdir():  # a write a kill interrupted
            stale.unlink(missing_ok=True)
        self._lock = threading.Lock()
        self._count = 0
        self.pending()
        #: set whenever an image is queued, so the scoring loop wakes at once
        self.arrived = threading.Event()

    def path_for(self, sop_uid: str) -> Path:
        """Where the image with this SOP Instance UID waits (and the path its row names)."""
        return self.root / QUEUED / f"{sop_uid}.dcm"

    def put(self, sop_uid: str, data: bytes) -> bool:
        """Store one image durably; False (nothing stored) when the queue is full.

        :raises OSError: the disk refused the write (the caller answers "out of resources").
        """
        with self._lock:
            if self._count >= self.max_files:
                return False
            self._count += 1
        try:
            tmp = self.root / INCOMING / f"{sop_uid}.{secrets.token_hex(4)}.part"
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            target = self.path_for(sop_uid)
            existed = target.exists()
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException:
            with self._lock:
                self._count -= 1
            tmp.unlink(missing_ok=True)
            raise
        if existed:  # the same instance sent again before it was scored: one file, one row
            with self._lock:
                self._count -= 1
        self.arrived.set()
        return True

    def pending(self) -> list[Path]:
        """The images waiting, oldest first."""
        entries = [(e.stat().st_mtime_ns, Path(e.path)) for e in os.scandir(self.root / QUEUED)
                   if e.name.endswith(".dcm")]
        with self._lock:  # the count from disk: a resent instance replaced its file, say
            self._count = len(entries)
        return [path for _, path in sorted(entries)]

    def remove(self, path: Path) -> None:
        """Forget one image once its row (and SR) are written."""
        path.unlink(missing_ok=True)
        with self._lock:
            self._count = max(0, self._count - 1)

    def __len__(self) -> int:
        return self._count

    def mark_unsent(self, sr_uid: str) -> None:
        """Remember that the SR ``sr_uid`` still has to be sent."""
        (self.root / UNSENT / sr_uid).touch()

    def unsent(self) -> list[str]:
        """The UIDs of SRs not yet sent, oldest first."""
        entries = [(e.stat().st_mtime_ns, e.name) for e in os.scandir(self.root / UNSENT)]
        return [name for _, name in sorted(entries)]

    def sent(self, sr_uid: str) -> None:
        """The SR ``sr_uid`` reached its destination."""
        (self.root / UNSENT / sr_uid).unlink(missing_ok=True)
