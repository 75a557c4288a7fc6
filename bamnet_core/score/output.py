"""Write score records as they come, durably, and resume a killed run.

Rows go out one batch at a time, each batch flushed and fsynced, so a run
killed at any moment loses at most the batch in flight. ``resume`` reads the
paths already in the output (:mod:`.resume` cuts off a torn last row, whose
image is then scored again) and skips them: no duplicate and no lost row.
The output file is created with the first batch, so a run that finds nothing
leaves no file.

Output formats: CSV (:func:`.rows.csv_columns`) and JSON Lines (one
:meth:`ScoreRecord.to_dict` per line); :mod:`.rows` holds the schema.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .._util.csv_text import CsvWriter
from .._util.lock import OutputLock
from .._util.progress import ProgressCallback, ProgressEvent, silent
from .discovery import Item, item_path
from .feed import DiscoveryFeed
from .options import Format, ScoreOptions
from .resume import ENCODING, ERRORS, DecisionRule, OutputError, read_done
from .rows import csv_cells, csv_columns, json_line
from .scorer import Scorer, ScoreRecord

if TYPE_CHECKING:
    from .sr_output import SrWriter

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
__all__ = ["OutputError", "RecordWriter", "ScoreSummary", "format_for", "output_lock",
           "score_to_output"]


def format_for(path: Path) -> Format:
    """The output format named by a file suffix (``.csv`` or ``.jsonl``)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OutputError(f"output {path} must end in .csv or .jsonl",
                          hint="e.g. --output scores.csv")
    return fmt  # type: ignore[return-value]


class RecordWriter:
    """Writes batches of records to a text stream; fsyncs when it owns a file."""

    def __init__(self, stream: TextIO, fmt: Format, classes: list[str], *,
                 header: bool, durable: bool, uids: bool = False) -> None:
        self.stream, self.fmt, self.classes, self.durable = stream, fmt, classes, durable
        self.uids = uids
        self.csv = CsvWriter(stream) if fmt == "csv" else None
        if self.csv is not None and header:
            self.csv.writerow(csv_columns(classes, uids))

    def write(self, records: Iterable[ScoreRecord]) -> None:
        """Write rows, flush, and make them durable."""
        for r in records:
            if self.csv is not None:
                self.csv.writerow(csv_cells(r, self.classes, self.uids))
            else:
                self.stream.write(json_line(r, self.uids) + "\n")
        self.stream.flush()
        if self.durable:
            os.fsync(self.stream.fileno())


@dataclass
class ScoreSummary:
    """What one scoring run did."""

    scored: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    provider: str = ""
    variant: str = ""
    model_sha256: str = ""
    output: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    max_errors_listed: int = 100
    #: rows written with a note (a UID left empty because it was not valid), the first listed
    noted: int = 0
    notes: list[dict[str, str]] = field(default_factory=list)
    #: DICOM Structured Reports written (``--sr``), and the folder they went to
    structured_reports: int = 0
    sr_folder: str | None = None

    @property
    def images_per_s(self) -> float:
        """Throughput over the whole run, decoding included; 0 when nothing was scored
        (files that failed at once are no measure of speed)."""
        total = self.scored + self.failed
        return total / self.seconds if self.seconds > 0 and self.scored else 0.0

    def count(self, records: Iterable[ScoreRecord]) -> None:
        """Add written records to the counts (and the first errors to ``errors``)."""
        for r in records:
            if r.note is not None:
                self.noted += 1
                if len(self.notes) < self.max_errors_listed:
                    self.notes.append({"path": r.path, "note": r.note})
            if r.error is None:
                self.scored += 1
                continue
            self.failed += 1
            if len(self.errors) < self.max_errors_listed:
                self.errors.append({"path": r.path, "error": r.error})

    def to_dict(self) -> dict:
        """A JSON-ready summary."""
        return {"scored": self.scored, "failed": self.failed, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "images_per_s": round(self.images_per_s, 2),
                "provider": self.provider, "variant": self.variant,
                "model_sha256": self.model_sha256,
                "output": self.output, "errors": self.errors, "noted": self.noted,
                "notes": self.notes,
                **({"structured_reports": self.structured_reports, "sr_folder": self.sr_folder}
                   if self.sr_folder is not None else {})}

    def note(self, path: str, note: str) -> None:
        """Count a note that is not in a record (an image that got no SR, say)."""
        self.noted += 1
        if len(self.notes) < self.max_errors_listed:
            self.notes.append({"path": path, "note": note})


def output_lock(output: Path) -> OutputLock:
    """The lock one scoring process holds on ``output`` (and its Ray shards) while it writes.

    The lock file is ``<output>.lock`` beside the output's resolved path, and the
    output's own inode is locked too when it exists: a second ``bamnet score`` on the
    same file, through a symlink or a hard link included, is refused at once.
    """
    real = output.resolve()
    return OutputLock(real.with_name(real.name + ".lock"), f"output {output}",
                      identity=real,
                      resume_hint="wait for that process to finish, or stop it and continue "
                                  f"with: bamnet score ... --output {output} --resume")


def notify_takeover(lock: OutputLock, progress: ProgressCallback) -> None:
    """Send a ``notice`` event when ``lock`` replaced one a dead process left behind."""
    if lock.took_over:
        progress(ProgressEvent("notice", 0, None, lock.took_over))


def prepare_output(output: Path, rule: DecisionRule, resume: bool) -> set[str]:
    """Check ``output`` can take this run's rows; the paths it already holds (``resume``)."""
    fmt = format_for(output)
    if resume:
        return read_done(output, fmt, rule)
    if os.path.lexists(output) and (not output.is_file() or output.stat().st_size > 0):
        raise OutputError(f"{output} already exists",
                          hint="pass --resume to continue it, or choose another --output")
    return set()


def skip_done(items: Iterable[Item], done: set[str], summary: ScoreSummary) -> Iterator[Item]:
    """``items`` without the paths in ``done``, counting them in ``summary.skipped``."""
    for item in items:
        if done and item_path(item) in done:
            summary.skipped += 1
            continue
        yield item


def with_total(progress: ProgressCallback, feed: DiscoveryFeed) -> ProgressCallback:
    """Forward events, adding the total once discovery has finished."""
    def forward(event: ProgressEvent) -> None:
        progress(ProgressEvent(event.stage, event.completed, feed.total, event.description,
                               event.fields))
    return forward


def score_to_output(scorer: Scorer, items: Iterable[Item],
                    options: ScoreOptions | None = None, *, stream: TextIO | None = None,
                    progress: ProgressCallback = silent) -> ScoreSummary:
    """Score ``items`` into ``options.output`` (a file) or ``stream``; return a summary.

    With ``options.resume`` the paths already in the output are skipped; without it an
    existing, non-empty output is refused rather than overwritten. Files larger than
    ``options.max_bytes`` are error rows, refused from ``stat``; ``options.uids`` writes
    the UID columns (:mod:`.uids`; empty for files that are not DICOM). Without
    ``options``, rows go to ``stream`` as CSV with :class:`.options.ScoreOptions`' defaults.
    """
    options = options or ScoreOptions()
    output = options.output
    summary = ScoreSummary(provider=scorer.provider, variant=getattr(scorer, "variant", ""),
                           model_sha256=scorer.sha256,
                           output=str(output) if output else None,
                           max_errors_listed=options.max_errors_listed)
    if output is None:
        return _score(scorer, items, options, options.stream_format, stream, summary, progress)
    fmt = format_for(output)
    make_parent(output)
    with output_lock(output) as lock:
        notify_takeover(lock, progress)
        return _score(scorer, items, options, fmt, stream, summary, progress)


def close_quietly(fh: TextIO) -> None:
    """Close ``fh``; a failed final flush (a full disk) leaves a torn row ``--resume`` repairs.

    The write error itself was already raised inside the loop; raising it again
    here would replace that one-line error with a bare ``OSError``.
    """
    try:
        fh.close()
    except OSError:
        try:
            os.close(fh.fileno())
        except (OSError, ValueError):
            pass


def make_parent(output: Path) -> None:
    """Create ``output``'s folder, or raise :class:`OutputError` naming it."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder of {output}: {exc.strerror or exc}",
                          hint="choose a writable --output") from None


def sr_writer(scorer: Scorer, options: ScoreOptions, summary: ScoreSummary) -> SrWriter | None:
    """The writer of ``options.sr``'s Structured Reports, or None without ``--sr``."""
    if options.sr is None:
        return None
    from .sr_output import SrWriter, algorithm_facts  # highdicom only with --sr

    summary.sr_folder = str(options.sr)
    return SrWriter(options.sr, algorithm_facts(scorer))


def _score(scorer: Scorer, items: Iterable[Item], options: ScoreOptions, fmt: Format,
           stream: TextIO | None, summary: ScoreSummary,
           progress: ProgressCallback) -> ScoreSummary:
    output, uids = options.output, options.uids
    done: set[str] = set()
    if output is not None:
        done = prepare_output(output, DecisionRule(scorer.classes, scorer.threshold,
                                                   scorer.sha256, uids), options.resume)
    start = time.perf_counter()
    feed = DiscoveryFeed(skip_done(items, done, summary))
    report = with_total(progress, feed)
    report(ProgressEvent("score", 0, None, "scoring", {"provider": scorer.provider}))
    fh = None
    writer: RecordWriter | None = None
    srs = sr_writer(scorer, options, summary)
    try:
        for records in scorer.score_stream(feed, batch_size=options.batch_size,
                                           workers=options.workers,
                                           max_pixels=options.max_pixels,
                                           max_bytes=options.max_bytes, uids=uids,
                                           progress=report):
            if writer is None:  # created with the first rows: finding nothing leaves no file
                if output is not None:
                    output.parent.mkdir(parents=True, exist_ok=True)
                    fresh = not output.exists() or output.stat().st_size == 0
                    fh = open(output, "a", encoding=ENCODING, errors=ERRORS, newline="")
                    writer = RecordWriter(fh, fmt, scorer.classes, header=fresh, durable=True,
                                          uids=uids)
                else:
                    writer = RecordWriter(stream or io.StringIO(), fmt, scorer.classes,
                                          header=True, durable=False, uids=uids)
            if srs is not None:  # SRs before rows: a resumed run rewrites the same SRs
                summary.structured_reports += len(srs.write(records))
                for path, why in srs.skipped:
                    summary.note(path, why)
                srs.skipped.clear()
            writer.write(records)
            summary.count(records)
    except BrokenPipeError:
        raise  # the reader went away (``| head``): not a problem with the output
    except OSError as exc:
        raise OutputError(f"cannot write {output or 'output'}: {exc.strerror or exc}",
                          hint="check the folder exists and is writable") from None
    finally:
        feed.close()
        if fh is not None:
            close_quietly(fh)
        summary.seconds = time.perf_counter() - start
    return summary
