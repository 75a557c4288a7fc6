"""Atomic file writes: a temp file in the same folder, fsync, then rename.

A reader (or a resumed run) never sees half a file: either the old content or
the new one.
"""

from __future__ import annotations

import json
import os
import tempfile
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
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if durable:
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


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
