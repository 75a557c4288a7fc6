"""Where bamnet keeps derived data that can be rebuilt: ``BAMNET_CACHE_DIR``.

Defaults to ``$XDG_CACHE_HOME/bamnet`` or ``~/.cache/bamnet``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .atomic import write_bytes
from .digest import file_digest


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


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (model ids, checksums)."""
    return file_digest(path).sha256


def write_entry(path: Path, data: bytes) -> None:
    """Write a cache entry atomically but without fsync (see :func:`atomic.write_bytes`)."""
    write_bytes(path, data, durable=False)
