"""Read back what an earlier run wrote, repair a torn last row, and refuse a mismatched rule.

A run killed mid-write leaves at most one incomplete row at the end of the
file. For CSV a row is complete when the parser consumed it up to its final
newline and it has every column; a path may hold quoted newlines or any other
character, so the file is parsed, not split on newlines. The incomplete tail
is cut off (its image is scored again). A malformed row anywhere else is
refused: that file was not written by ``bamnet score``.

Rows record the model's sha256 and the threshold; the CSV header (or the
JSON Lines probabilities) the class list. Resuming with another model,
threshold or class list would mix decision rules in one file, so it is refused;
so is resuming a file with (or without) the UID columns into a run without (with) them.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import BamnetError
from .rows import csv_columns, record_from_cells, record_from_json
from .scorer import ScoreRecord

ENCODING, ERRORS = "utf-8", "surrogateescape"  # any path bytes round-trip


class OutputError(BamnetError):
    """The score output file cannot be written or resumed."""


@dataclass(frozen=True)
class DecisionRule:
    """What every row of one output must share."""

    classes: list[str]
    threshold: float
    model_sha256: str
    uids: bool = False  # the rows carry the UID columns (:mod:`.uids`)


def uid_schema_error(where: Path, has_uids: bool) -> OutputError:
    """Why an output written with (or without) the UID columns cannot take this run's rows."""
    if has_uids:
        return OutputError(f"{where} has the sop_instance_uid and study_instance_uid columns; "
                           "this run writes none (--no-uids)",
                           hint="resume without --no-uids, or write to a new --output")
    return OutputError(f"{where} has no sop_instance_uid and study_instance_uid columns "
                       "(written with --no-uids, or before bamnet wrote them)",
                       hint="resume with --no-uids, or write to a new --output")


def _split_lines(text: str, consumed: list[int]) -> Iterator[str]:
    """Lines ending in ``\\n`` only (a path may hold ``\\r``); counts bytes handed out."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        line = text[start:end]
        consumed[0] += len(line.encode(ENCODING, ERRORS))
        start = end
        yield line


def parse_csv(data: bytes, classes: list[str], where: Path,
              uids: bool = False) -> tuple[list[ScoreRecord], int]:
    """Complete rows of a CSV output and the byte length they span (header included)."""
    text = data.decode(ENCODING, ERRORS)
    consumed = [0]
    reader = csv.reader(_split_lines(text, consumed), strict=True)
    records: list[ScoreRecord] = []
    good = 0
    try:
        header = next(reader, None)
        if header is None or not text[:consumed[0]].endswith("\n"):
            return [], 0
        if header == csv_columns(classes, not uids):
            raise uid_schema_error(where, not uids)
        if header != csv_columns(classes, uids):
            raise OutputError(f"{where} has the columns {', '.join(header)}; this model writes "
                              f"{', '.join(csv_columns(classes, uids))} (another class list)",
                              hint="resume with the model that wrote it, or write to a new "
                                   "--output")
        good = consumed[0]
        for cells in reader:
            complete = text[:consumed[0]].endswith("\n")
            try:
                record = record_from_cells(cells, classes, uids)
            except ValueError:
                record = None
            if record is None or not complete:
                if consumed[0] < len(data):
                    raise OutputError(f"{where}: row {len(records) + 1} is not a score row",
                                      hint="write to a new --output file")
                break  # the torn tail of a killed run
            records.append(record)
            good = consumed[0]
    except csv.Error:
        if consumed[0] < len(data):
            raise OutputError(f"{where}: row {len(records) + 1} is not valid CSV",
                              hint="write to a new --output file") from None
    return records, good


def parse_jsonl(data: bytes, where: Path, uids: bool = False) -> tuple[list[ScoreRecord], int]:
    """Complete rows of a JSON Lines output and the byte length they span."""
    good = data.rfind(b"\n") + 1  # JSON escapes newlines, so a line is a row
    records = []
    for n, line in enumerate(data[:good].decode(ENCODING, ERRORS).split("\n"), start=1):
        if line.strip():
            try:
                obj = json.loads(line)
                if isinstance(obj, dict) and ("sop_instance_uid" in obj) != uids:
                    raise uid_schema_error(where, not uids)
                records.append(record_from_json(obj, uids))
            except ValueError:
                raise OutputError(f"{where} line {n} is not a score record",
                                  hint="write to a new --output file") from None
    return records, good


def check_rule(records: list[ScoreRecord], rule: DecisionRule, where: Path) -> None:
    """Refuse rows made by another model, threshold or class list."""
    for r in records:
        if r.model_sha256 != rule.model_sha256:
            raise OutputError(f"{where} holds rows scored by another model "
                              f"(sha256 {r.model_sha256[:12]}...)",
                              hint="resume with the same model file, or write to a new --output")
        if r.threshold != rule.threshold:
            raise OutputError(f"{where} holds rows made with threshold {r.threshold}, not "
                              f"{rule.threshold}", hint=f"resume with --threshold "
                              f"{r.threshold}, or write to a new --output")
        if r.probabilities is not None and list(r.probabilities) != rule.classes:
            raise OutputError(f"{where} holds rows for the classes {list(r.probabilities)}, "
                              f"not {rule.classes}", hint="write to a new --output")


def read_done(path: Path, fmt: str, rule: DecisionRule) -> set[str]:
    """Paths already in ``path`` (cutting off a torn last row first).

    :raises OutputError: the file was written with another model, threshold,
        class list or format.
    """
    if not path.exists():
        return set()
    if not path.is_file():
        raise OutputError(f"output {path} is not a regular file",
                          hint="choose a file path for --output")
    data = path.read_bytes()
    if fmt == "csv":
        records, good = parse_csv(data, rule.classes, path, rule.uids)
    else:
        records, good = parse_jsonl(data, path, rule.uids)
    check_rule(records, rule, path)
    if good < len(data):  # killed mid-row: drop the fragment; that image is scored again
        with open(path, "rb+") as fh:
            fh.truncate(good)
            os.fsync(fh.fileno())
    return {r.path for r in records}
