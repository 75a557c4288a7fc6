"""Thumbnails of ranked images in one PNG, so a person can look before cleaning.

Used for label issues and outliers: each tile shows the image, its rank, its
label and a score. An image that no longer decodes gets a grey tile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..contract.storage import write_file
from ..errors import ImageDecodeError
from ..imaging.decode import decode_image

TILE = 160
CAPTION = 30
COLUMNS = 6


def _tile(path: str) -> np.ndarray:
    try:
        gray = decode_image(path)
    except ImageDecodeError:
        return np.full((TILE, TILE), 96, dtype=np.uint8)
    h, w = gray.shape
    scale = TILE / max(h, w)
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    tile = np.zeros((TILE, TILE), dtype=np.uint8)
    y, x = (TILE - small.shape[0]) // 2, (TILE - small.shape[1]) // 2
    tile[y:y + small.shape[0], x:x + small.shape[1]] = np.clip(small * 255, 0, 255)
    return tile


def contact_sheet(rows: Sequence[Mapping[str, Any]], out: str | Path, *, score_key: str,
                  title: str, limit: int = 24) -> Path | None:
    """Write the first ``limit`` ranked ``rows`` (each with ``path``, ``label``) as a PNG grid.

    :param score_key: the row field printed under each tile.
    :returns: the PNG's path, or None when there are no rows.
    """
    rows = list(rows)[:limit]
    if not rows:
        return None
    n_rows = (len(rows) + COLUMNS - 1) // COLUMNS
    sheet = np.full((CAPTION + n_rows * (TILE + CAPTION), COLUMNS * TILE), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(sheet, title[:90], (6, 20), font, 0.5, 0, 1, cv2.LINE_AA)
    for i, row in enumerate(rows):
        top = CAPTION + (i // COLUMNS) * (TILE + CAPTION)
        left = (i % COLUMNS) * TILE
        sheet[top:top + TILE, left:left + TILE] = _tile(str(row["path"]))
        text = f"{i + 1}. {row['label']} {score_key}={row.get(score_key)}"
        name = Path(str(row["path"])).name
        cv2.putText(sheet, text[:30], (left + 3, top + TILE + 12), font, 0.36, 0, 1,
                    cv2.LINE_AA)
        cv2.putText(sheet, name[:30], (left + 3, top + TILE + 25), font, 0.33, 80, 1,
                    cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", sheet)
    if not ok:  # pragma: no cover - encoding a uint8 array does not fail
        return None
    target = Path(out)
    write_file(target, buf.tobytes(), f"the contact sheet {target.name}")
    return target
