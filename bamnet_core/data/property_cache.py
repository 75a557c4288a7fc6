"""One cache entry per image content: its dHash, thumbnail and properties, stored together.

Both are computed where an image is decoded anyway (the image cache's miss,
fingerprinting) and kept as one small JSON file under
``cache_dir("fingerprints")``, keyed by the content's SHA-256, so a dataset
decoded once is audited without decoding, and a cold pass writes one file per
image, not two. The pixel properties are read outside the image's lung fields, so
entries live under the tag of their lung-field source
(``LungSource.tag`` of :mod:`bamnet_core.imaging.properties`, ``none`` without one):
properties read outside one estimator's (or one set of masks') fields are never
served to a run that uses another's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .._util.cachedir import cache_dir, write_entry
from ..imaging import decode as decoding
from ..imaging.properties import (
    CATEGORICAL,
    NUMERIC,
    PROPERTIES_VERSION,
    UNREAD,
    LungSource,
)

ENTRY_VERSION = 3  # of the dHash and this file's layout


NO_LUNGS = "none"  # the tag of entries described without lung fields


def tag_of(lungs: LungSource | None) -> str:
    """The cache tag of a lung-field source (``none`` without one)."""
    return NO_LUNGS if lungs is None else lungs.tag


def entry_path(sha: str, lungs: LungSource | None) -> Path:
    """Where the entry of content ``sha``, described with the fields of ``lungs``, lives."""
    return cache_dir("fingerprints", f"v{ENTRY_VERSION}-p{PROPERTIES_VERSION}"
                     f"-d{decoding.DECODER_VERSION}", tag_of(lungs), sha[:2],
                     f"{sha}.json")


def to_json(props: dict[str, Any]) -> dict[str, Any]:
    """Properties with NaN and infinities as ``None``, so the JSON stays standard."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in props.items()}


def from_json(props: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`to_json`: an unknown numeric property is NaN again."""
    return {k: math.nan if v is None and k in NUMERIC else v for k, v in props.items()}


def remember(sha: str, lungs: LungSource | None, dhash: str, props: dict[str, Any],
             thumbnail: str | None = None) -> None:
    """Store the dHash (hex), properties (described with the fields of ``lungs``) and
    copy-matching thumbnail (text, :func:`bamnet_core.data.copies.encode_thumbnail`) of
    content ``sha``; a read-only cache only costs a decode later."""
    payload = {"dhash": dhash, "properties": to_json(props), "thumbnail": thumbnail}
    try:
        write_entry(entry_path(sha, lungs), json.dumps(payload, sort_keys=True).encode("utf-8"))
    except OSError:
        pass


def recall(sha: str, lungs: LungSource | None) -> tuple[str, dict[str, Any]] | None:
    """The stored dHash (hex) and properties of content ``sha`` under the fields of
    ``lungs``, or None (absent, corrupt, incomplete)."""
    found = _entry(sha, lungs)
    return None if found is None else (found[0], found[1])


def recall_all(sha: str, lungs: LungSource | None
               ) -> tuple[str, dict[str, Any], str | None] | None:
    """Like :func:`recall`, plus the stored thumbnail text (None for an entry without one)."""
    return _entry(sha, lungs)


def _entry(sha: str, lungs: LungSource | None
           ) -> tuple[str, dict[str, Any], str | None] | None:
    try:
        payload = json.loads(entry_path(sha, lungs).read_text(encoding="utf-8"))
        text, props = payload["dhash"], payload["properties"]
        thumb = payload.get("thumbnail")
    except (OSError, ValueError, UnicodeDecodeError, KeyError, TypeError):
        return None
    if not isinstance(text, str) or not isinstance(props, dict) or \
            any(k not in props for k in NUMERIC + CATEGORICAL) or \
            props.get("pixels") != (UNREAD if lungs is None else lungs.pixels()):
        return None
    return text, from_json(props), thumb if isinstance(thumb, str) else None


def cached_properties(sha: str, lungs: LungSource | None) -> dict[str, Any] | None:
    """The stored properties of content ``sha`` under the fields of ``lungs``, or None."""
    found = recall(sha, lungs)
    return None if found is None else found[1]
