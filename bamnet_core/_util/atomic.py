"""Atomic file writes: a temp file in the same folder, fsync, then rename.

A reader (or a resumed run) never sees half a file: either the old content or
the new one. Temp files are created with mode 0o666 and the kernel applies
the user's umask, so finished files get the permissions any other tool's
would (``tempfile.mkstemp`` would make every file 0600).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: str | Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success rename it over ``target``.

    The temp file keeps ``target``'s suffix, so writers that look at the
    extension (``model.save("x.keras")``) still work. On error it is removed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _create_temp(target)
    try:
        yield tmp_path
        if durable:
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _create_temp(target: Path) -> Path:
    """Create an empty, uniquely named temp file beside ``target`` (umask applies)."""
    for _ in range(100):
        candidate = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
    raise FileExistsError(f"cannot create a temp file beside {target}")


def write_bytes(target: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Atomically write bytes to ``target``.

    :param durable: fsync before the rename, so the file survives a power
        cut. Rebuildable cache entries pass ``False``: a lost entry only costs
        recomputing it, and fsync per entry would dominate a cold pass.
    """
    with atomic_path(target, durable=durable) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | Path, text: str) -> None:
    """Atomically write UTF-8 text to ``target``."""
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | Path, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON to ``target``."""
    write_text(target, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
