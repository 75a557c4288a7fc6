"""The row schema both engines write: columns, CSV cells, JSON Lines, and reading rows back.

A row is ``path, prob_<class>..., label, threshold, model_sha256, error``, then,
with ``uids`` (``bamnet score``'s default), ``sop_instance_uid,
study_instance_uid`` (:mod:`.uids`; empty for a file that is not DICOM).
Every text cell (path, label, error, the UIDs) that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return)
gets a leading ``'``; reading a row back removes it, so resume and merging
see the real value. Error text is one line (line breaks written as ``\n``). JSON Lines
rows are :meth:`ScoreRecord.to_dict`, written with ``allow_nan=False``, so
the output is always valid JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .scorer import ScoreRecord
from .uids import UID_COLUMNS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_columns(classes: list[str], uids: bool = False) -> list[str]:
    """The CSV header (and the Parquet shard columns) for a model with these classes."""
    return ["path", *[f"prob_{c}" for c in classes], "label", "threshold", "model_sha256",
            "error", *(UID_COLUMNS if uids else ())]


def spreadsheet_safe(cell: str) -> str:
    """``cell`` with a leading ``'`` if a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) or cell.startswith("'") else cell


def spreadsheet_value(cell: str) -> str:
    """Undo :func:`spreadsheet_safe`."""
    return cell[1:] if cell.startswith("'") else cell


def csv_cells(record: ScoreRecord, classes: list[str], uids: bool = False) -> list[str]:
    """One CSV row; probabilities with 9 significant digits (float32 round-trips)."""
    probs = ([f"{record.probabilities[c]:.9g}" for c in classes] if record.probabilities
             else [""] * len(classes))
    extra = ([spreadsheet_safe(record.sop_instance_uid or ""),
              spreadsheet_safe(record.study_instance_uid or "")] if uids else [])
    return [spreadsheet_safe(record.path), *probs, spreadsheet_safe(record.label or ""),
            repr(record.threshold),
            record.model_sha256, spreadsheet_safe(record.error or ""), *extra]


def json_line(record: ScoreRecord, uids: bool = False) -> str:
    """One JSON Lines row (raises ``ValueError`` rather than write NaN)."""
    return json.dumps(record.to_dict(uids=uids), allow_nan=False)


def record_from_cells(cells: list[str], classes: list[str], uids: bool = False) -> ScoreRecord:
    """Parse a CSV row written by :func:`csv_cells`; ``ValueError`` if it is not one."""
    expected = len(csv_columns(classes, uids))
    if len(cells) != expected:
        raise ValueError(f"expected {expected} cells, got {len(cells)}")
    sop, study = (spreadsheet_value(c) or None for c in cells[-2:]) if uids else (None, None)
    cells = cells[:-2] if uids else cells
    path, probs, (label, threshold, sha, error) = cells[0], cells[1:-4], cells[-4:]
    probabilities = ({c: float(p) for c, p in zip(classes, probs, strict=True)}
                     if all(probs) else None)
    return ScoreRecord(spreadsheet_value(path), probabilities, spreadsheet_value(label) or None,
                       float(threshold),
                       sha, spreadsheet_value(error) or None, sop, study)


def record_from_json(obj: Any, uids: bool = False) -> ScoreRecord:
    """Parse a JSON Lines row; ``ValueError`` if it is not one."""
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    try:
        return ScoreRecord(str(obj["path"]), obj["probabilities"], obj["label"],
                           float(obj["threshold"]), str(obj["model_sha256"]), obj["error"],
                           *((obj["sop_instance_uid"], obj["study_instance_uid"]) if uids
                             else ()))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"missing {exc}") from None


def record_to_columns(record: ScoreRecord, classes: list[str],
                      uids: bool = False) -> dict[str, Any]:
    """The row as a flat dict of the :func:`csv_columns` (what Parquet shards hold)."""
    probs = record.probabilities or {}
    return {"path": record.path, **{f"prob_{c}": probs.get(c) for c in classes},
            "label": record.label, "threshold": record.threshold,
            "model_sha256": record.model_sha256, "error": record.error,
            **({"sop_instance_uid": record.sop_instance_uid,
                "study_instance_uid": record.study_instance_uid} if uids else {})}


def record_from_columns(row: dict[str, Any], classes: list[str],
                        uids: bool = False) -> ScoreRecord:
    """Undo :func:`record_to_columns`."""
    probs = [row.get(f"prob_{c}") for c in classes]
    ok = all(p is not None and not (isinstance(p, float) and math.isnan(p)) for p in probs)
    return ScoreRecord(str(row["path"]),
                       {c: float(p) for c, p in zip(classes, probs, strict=True)} if ok
                       else None, row.get("label") or None, float(row["threshold"]),
                       str(row["model_sha256"]), row.get("error") or None,
                       *((row.get("sop_instance_uid") or None,
                          row.get("study_instance_uid") or None) if uids else ()))
