"""Write score records as they come, durably, and resume a killed run.

Rows go out one batch at a time, each batch flushed and fsynced, so a run
killed at any moment loses at most the batch in flight. ``resume`` reads the
paths already in the output (dropping a torn last line, whose image is then
scored again) and skips them: no duplicate and no lost row.

Output formats: CSV (``path, prob_<class>..., label, threshold,
model_sha256, error``) and JSON Lines (one :meth:`ScoreRecord.to_dict` per line).
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from .._util.progress import ProgressCallback, silent
from ..errors import BamnetError, ImageDecodeError
from .scorer import Scorer, ScoreRecord

Format = Literal["csv", "jsonl"]
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class OutputError(BamnetError):
    """The score output file cannot be written or resumed."""


def format_for(path: Path) -> Format:
    """The output format named by a file suffix (``.csv`` or ``.jsonl``)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OutputError(f"output {path} must end in .csv or .jsonl",
                          hint="e.g. --output scores.csv")
    return fmt  # type: ignore[return-value]


def csv_columns(classes: list[str]) -> list[str]:
    """The CSV header for a model with these classes."""
    return ["path", *[f"prob_{c}" for c in classes], "label", "threshold", "model_sha256",
            "error"]


class RecordWriter:
    """Writes batches of records to a text stream; fsyncs when it owns a file."""

    def __init__(self, stream: TextIO, fmt: Format, classes: list[str], *,
                 header: bool, durable: bool) -> None:
        self.stream, self.fmt, self.classes, self.durable = stream, fmt, classes, durable
        self.csv = csv.writer(stream, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None and header:
            self.csv.writerow(csv_columns(classes))

    def write(self, records: Iterable[ScoreRecord]) -> None:
        """Write rows, flush, and make them durable."""
        for r in records:
            if self.csv is not None:
                probs = ([f"{r.probabilities[c]:.9g}" for c in self.classes] if r.probabilities
                         else [""] * len(self.classes))
                self.csv.writerow([r.path, *probs, r.label or "", r.threshold, r.model_sha256,
                                   r.error or ""])
            else:
                self.stream.write(json.dumps(r.to_dict()) + "\n")
        self.stream.flush()
        if self.durable:
            os.fsync(self.stream.fileno())


def read_done(path: Path, fmt: Format, classes: list[str], sha256: str) -> set[str]:
    """Absolute paths already in ``path``; drop a torn last line first.

    :raises OutputError: if the file was written for another model or format.
    """
    if not path.exists() or path.stat().st_size == 0:
        return set()
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):  # killed mid-line: drop the fragment; that image is rescored
        with open(path, "rb+") as fh:
            fh.truncate(keep)
            os.fsync(fh.fileno())
    text = data[:keep].decode("utf-8", errors="replace")
    rows: list[tuple[str, str]] = []
    if fmt == "csv":
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header and header != csv_columns(classes):
            raise OutputError(f"{path} has columns {header[:4]}... not those of this model",
                              hint="write to a new --output file")
        rows = [(row[0], row[-2]) for row in reader if row]
    else:
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    obj = json.loads(line)
                    rows.append((obj["path"], obj["model_sha256"]))
                except (ValueError, KeyError, TypeError):
                    raise OutputError(f"{path} line {n} is not a score record",
                                      hint="write to a new --output file") from None
    others = {sha for _, sha in rows if sha != sha256}
    if others:
        raise OutputError(f"{path} holds rows scored by another model "
                          f"(sha256 {sorted(others)[0][:12]}...)",
                          hint="resume with the same model file, or write to a new --output")
    return {os.path.abspath(p) for p, _ in rows}


@dataclass
class ScoreSummary:
    """What one scoring run did."""

    scored: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    provider: str = ""
    model_sha256: str = ""
    output: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def images_per_s(self) -> float:
        """Throughput over the whole run, decoding included."""
        total = self.scored + self.failed
        return total / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        """A JSON-ready summary."""
        return {"scored": self.scored, "failed": self.failed, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "images_per_s": round(self.images_per_s, 2),
                "provider": self.provider, "model_sha256": self.model_sha256,
                "output": self.output, "errors": self.errors}


def score_to_output(scorer: Scorer, items: Iterable[str | ImageDecodeError], *,
                    output: Path | None = None, stream: TextIO | None = None,
                    fmt: Format = "csv", resume: bool = False, batch_size: int = 32,
                    workers: int | None = None, max_errors_listed: int = 100,
                    progress: ProgressCallback = silent) -> ScoreSummary:
    """Score ``items`` into ``output`` (a file) or ``stream``; return a summary.

    :param resume: skip paths already in ``output``; without it an existing,
        non-empty ``output`` is refused rather than overwritten.
    """
    summary = ScoreSummary(provider=scorer.provider, model_sha256=scorer.sha256,
                           output=str(output) if output else None)
    done: set[str] = set()
    if output is not None:
        fmt = format_for(output)
        if resume:
            done = read_done(output, fmt, scorer.classes, scorer.sha256)
        elif output.exists() and output.stat().st_size > 0:
            raise OutputError(f"{output} already exists",
                              hint="pass --resume to continue it, or choose another --output")

    def todo() -> Iterable[str | ImageDecodeError]:
        for item in items:
            name = item.path if isinstance(item, ImageDecodeError) else item
            if done and os.path.abspath(name) in done:
                summary.skipped += 1
                continue
            yield item

    start = time.perf_counter()
    fh = None
    try:
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            fresh = not output.exists() or output.stat().st_size == 0
            fh = open(output, "a", encoding="utf-8", newline="")
            writer = RecordWriter(fh, fmt, scorer.classes, header=fresh, durable=True)
        else:
            writer = RecordWriter(stream or io.StringIO(), fmt, scorer.classes, header=True,
                                  durable=False)
        for records in scorer.score_stream(todo(), batch_size=batch_size, workers=workers,
                                           progress=progress):
            writer.write(records)
            for r in records:
                if r.error is None:
                    summary.scored += 1
                    continue
                summary.failed += 1
                if len(summary.errors) < max_errors_listed:
                    summary.errors.append({"path": r.path, "error": r.error})
    except BrokenPipeError:
        raise  # the reader went away (``| head``): not a problem with the output
    except OSError as exc:
        raise OutputError(f"cannot write {output or 'output'}: {exc.strerror or exc}",
                          hint="check the folder exists and is writable") from None
    finally:
        if fh is not None:
            fh.close()
        summary.seconds = time.perf_counter() - start
    return summary
