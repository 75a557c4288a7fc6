"""``manifest-csv``: one row per image, ``path,label[,patient_id,source,view,age,sex,...]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bamnet_core.contract import DataError, Sample

from .common import csv_header, normalise_view, parse_age, read_csv
from .populations import KnownPopulations

DEMOGRAPHIC_COLUMNS = ("age", "sex", "age_group")
SOURCE_FROM = "'auto', 'prefix', 'manifest' or 'column:<name>'"


class ManifestCSVSource(KnownPopulations):
    """Images listed in a CSV file; relative paths resolve against the CSV's folder.

    :param path: the CSV file. Columns ``path`` and ``label`` are required;
        ``patient_id``, ``source``, ``view``, ``age``, ``sex`` and
        ``age_group`` are used when present. A missing patient id means one
        patient per image.
    :param source_from: where each image's source comes from: ``"auto"`` (a
        ``source`` column; else the file-name prefix before ``__`` when every
        file has one; else the ``source_repo`` column's first word; else the
        CSV's file name), ``"prefix"``, ``"manifest"`` or ``"column:<name>"``.
    :param extra: more CSVs (relative to this one) joined on ``path`` that
        fill columns this one lacks, e.g. ages. ``None`` joins
        ``<stem>_extra.csv`` beside the CSV when it exists; ``[]`` joins none.
    :param label_map: label in the CSV -> label used (e.g. ``{"COVID-19" = "covid"}``).
    """

    detect_priority = 90  # a manifest is the user saying what to read: it wins over layouts

    def __init__(self, *, path: Path, source_from: str = "auto",
                 extra: list[str] | None = None,
                 label_map: dict[str, str] | None = None) -> None:
        self.path = Path(path).expanduser()
        if source_from not in ("auto", "prefix", "manifest") and not (
                source_from.startswith("column:") and len(source_from) > 7):
            raise DataError(f"manifest-csv source_from {source_from!r} unknown; use "
                            f"{SOURCE_FROM}")
        self.source_from = source_from
        self.extra = extra
        self.label_map = label_map or {}
        self.notes: list[str] = []

    @classmethod
    def detect(cls, path: Path) -> dict[str, Any] | None:
        """Options for a CSV file with ``path`` and ``label`` columns (or a folder holding
        such a ``manifest.csv``); None for any other CSV, so another source may read it."""
        if path.is_dir() and (path / "manifest.csv").is_file():
            path = path / "manifest.csv"
        if path.is_file() and path.suffix.lower() == ".csv" and \
                {"path", "label"} <= set(csv_header(path)):
            return {"path": str(path)}
        return None

    def _extras(self) -> dict[str, dict[str, str]]:
        names = self.extra
        if names is None:
            auto = self.path.with_name(f"{self.path.stem}_extra.csv")
            names = [auto.name] if auto.is_file() else []
        joined: dict[str, dict[str, str]] = {}
        for name in names:
            extra_path = self.path.parent / name
            for row in read_csv(extra_path, required=("path",)):
                joined.setdefault(row["path"], {}).update(row)
            self.notes.append(f"joined columns from {extra_path.name} on 'path'")
        return joined

    def _source_of(self, rows: list[dict[str, str]]) -> list[str]:
        mode = self.source_from
        if mode == "auto":
            names = [Path(r["path"]).name for r in rows]
            if rows and "source" in rows[0]:
                mode = "column:source"
            elif names and all("__" in n for n in names):
                mode = "prefix"
            elif rows and "source_repo" in rows[0]:
                return [(r.get("source_repo") or "").split(" ")[0] or "unknown" for r in rows]
            else:
                mode = "manifest"
        if mode == "prefix":
            return [Path(r["path"]).name.split("__")[0] if "__" in Path(r["path"]).name
                    else self.path.stem for r in rows]
        if mode == "manifest":
            return [self.path.stem] * len(rows)
        column = mode.split(":", 1)[1]
        if rows and column not in rows[0]:
            raise DataError(f"{self.path}: source_from = {self.source_from!r} but there is no "
                            f"column {column!r}", hint=f"use {SOURCE_FROM}")
        return [r.get(column) or "unknown" for r in rows]

    def samples(self) -> list[Sample]:
        """One sample per row, in file order."""
        rows = read_csv(self.path, required=("path", "label"))
        if not rows:
            raise DataError(f"{self.path}: no rows", hint="add one row per image")
        extras = self._extras()
        sources = self._source_of(rows)
        out: list[Sample] = []
        for number, (row, source) in enumerate(zip(rows, sources, strict=True), start=2):
            for column in ("path", "label"):
                if not (row.get(column) or "").strip():
                    raise DataError(f"{self.path}: row {number}: column {column!r} is empty",
                                    hint="every row needs a path and a label")
            merged = {**extras.get(row["path"], {}), **{k: v for k, v in row.items() if v}}
            image = Path(row["path"].strip())
            if not image.is_absolute():
                image = self.path.parent / image
            label = self.label_map.get(row["label"].strip(), row["label"].strip())
            demographics: dict[str, Any] = {k: merged[k].strip() for k in DEMOGRAPHIC_COLUMNS
                                            if (merged.get(k) or "").strip()}
            if "age" in demographics:
                age = parse_age(demographics["age"])
                if age is None:
                    del demographics["age"]
                else:
                    demographics["age"] = age
            out.append(Sample(
                path=str(image), label=label,
                patient_id=(merged.get("patient_id") or "").strip() or f"image:{row['path']}",
                source=source, view=normalise_view(merged.get("view")),
                demographics=demographics))
        return out
