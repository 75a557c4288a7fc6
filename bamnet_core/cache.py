"""Where bamnet keeps derived data that can be rebuilt: ``BAMNET_CACHE_DIR``.

Defaults to ``$XDG_CACHE_HOME/bamnet`` or ``~/.cache/bamnet``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_dir(*parts: str) -> Path:
    """The cache folder (or a sub-folder of it); not created here."""
    root = os.environ.get("BAMNET_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(xdg) / "bamnet")
    return Path(root, *parts)


def fingerprint(obj: Any, length: int = 16) -> str:
    """A short, stable hash of a JSON-serialisable value (cache keys)."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def write_entry(path: Path, data: bytes) -> None:
    """Write a cache entry atomically (temp file, then rename), without fsync.

    Readers never see half an entry. A crash may lose the entry, which only
    costs recomputing it; skipping fsync keeps a cold pass over thousands of
    small entries from waiting on the disk.
    """
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
