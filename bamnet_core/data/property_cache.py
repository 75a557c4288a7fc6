"""Image properties (:mod:`bamnet_core.imaging.properties`) stored by content hash.

They are computed where an image is decoded anyway (the image cache's miss,
fingerprinting) and kept under ``cache_dir("properties")`` beside the dHash,
so the shortcut baseline of a dataset decoded once decodes nothing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .._util.cachedir import cache_dir, write_entry
from ..imaging.properties import CATEGORICAL, NUMERIC, PROPERTIES_VERSION


def _entry(sha: str) -> Path:
    return cache_dir("properties", f"v{PROPERTIES_VERSION}", sha[:2], f"{sha}.json")


def remember_properties(sha: str, props: dict[str, Any]) -> None:
    """Store the properties of content ``sha``; a read-only cache only costs a decode later."""
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
             for k, v in props.items()}
    try:
        write_entry(_entry(sha), json.dumps(clean, sort_keys=True).encode("utf-8"))
    except OSError:
        pass


def cached_properties(sha: str) -> dict[str, Any] | None:
    """The stored properties of content ``sha``, or None (absent, corrupt or incomplete)."""
    try:
        props = json.loads(_entry(sha).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(props, dict) or any(k not in props for k in NUMERIC + CATEGORICAL):
        return None
    return {k: math.nan if props[k] is None and k in NUMERIC else props[k] for k in props}
