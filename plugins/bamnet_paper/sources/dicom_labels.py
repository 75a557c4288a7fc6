"""Labels for DICOM files from a CSV keyed by file, SOPInstanceUID, StudyInstanceUID
or PatientID."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bamnet_core.contract import DataError

from .common import read_csv

# CSV column -> the identity field it matches; the first present column is the key
KEYS = {"file": None, "path": None, "SOPInstanceUID": "sop_uid",
        "StudyInstanceUID": "study_uid", "PatientID": "patient_id"}


@dataclass
class LabelTable:
    """``key -> label`` read from a CSV, and which column the key is."""

    column: str
    labels: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> LabelTable:
        """Read the CSV: a ``label`` column and one key column of :data:`KEYS`.

        :raises DataError: no such file, no ``label`` or key column, or one key
            given two different labels.
        """
        rows = read_csv(path, required=("label",))
        header = list(rows[0]) if rows else []
        column = next((c for c in KEYS if c in header), None)
        if column is None:
            raise DataError(f"{path}: no key column; header is {header}",
                            hint=f"add one of the columns {list(KEYS)} beside 'label'")
        labels: dict[str, str] = {}
        for number, row in enumerate(rows, start=2):
            key = _key(column, row.get(column))
            label = (row.get("label") or "").strip()
            if not key or not label:
                continue
            if labels.setdefault(key, label) != label:
                raise DataError(f"{path}: line {number}: {column} {key!r} is labelled both "
                                f"{labels[key]!r} and {label!r}",
                                hint="give each key one label")
        return cls(column, labels)

    def label_for(self, relative: Path, tags: dict[str, Any]) -> str | None:
        """The label of a file (its path relative to the root, and its tags), or None."""
        field = KEYS[self.column]
        key = relative.as_posix() if field is None else tags.get(field)
        return self.labels.get(_key(self.column, key)) if key else None


def _key(column: str, value: object) -> str:
    text = str(value or "").strip()
    if KEYS[column] is None:
        return Path(text).as_posix().removeprefix("./") if text else ""
    return text
