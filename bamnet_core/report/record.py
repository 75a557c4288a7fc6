"""What a report is made of: one run folder's files, read once into one typed record.

:func:`read_run` reads ``config.toml`` (as a typed :class:`Config`, core sections
only: :mod:`bamnet_core.runs.run_config`), ``meta.json``, ``metrics.json``,
``data-audit.json``, ``history.csv`` and every ``external/<name>/metrics.json``
through their models (:mod:`bamnet_core.runs.files`). A command reads the
folder once and passes the record down. A run that failed part-way still gets
a report of what it has (a missing file is None); a folder that is not a run
folder, or a damaged file, is a :class:`RunError` naming the file.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.resolved import Config
from ..errors import RunError
from ..runs import layout
from ..runs.files import AuditFile, ExportReportFile, MetaFile, MetricsFile, SplitMetrics
from ..runs.folder import RunFolder
from ..runs.integrity import refuse_changed
from ..runs.run_config import config_of, read_config
from ..runs.versioned import RunFile


@dataclass(frozen=True)
class RunRecord:
    """The parts of a run folder a report shows (a file the run did not write is None)."""

    path: Path
    config_text: str
    config: Config
    meta: MetaFile | None = None
    metrics: MetricsFile | None = None
    audit: AuditFile | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    external: dict[str, MetricsFile] = field(default_factory=dict)
    export: ExportReportFile | None = None

    @property
    def name(self) -> str:
        """The run folder's name."""
        return self.path.name

    @property
    def leaky(self) -> bool:
        """Whether the run split images rather than patients."""
        split = self.metrics.split if self.metrics else None
        return bool(split and split.leaky) or self.config.split.by == "image"

    @property
    def splits(self) -> dict[str, SplitMetrics]:
        """Every evaluated split by name (empty before the run evaluated)."""
        return self.metrics.splits if self.metrics else {}

    @property
    def headline_split(self) -> str | None:
        """The split the headline numbers come from, when the run named one."""
        return self.metrics.headline_split if self.metrics else None

    @property
    def warnings(self) -> list[str]:
        """The audit's warnings, then those evaluation added (``metrics.json``)."""
        return [*(self.audit.warnings if self.audit else []),
                *(self.metrics.warnings if self.metrics else [])]

    def results(self, split: str, evaluator: str) -> dict[str, Any] | None:
        """What ``evaluator`` returned on ``split``; None when it did not run there."""
        return self.metrics.results(split, evaluator) if self.metrics else None


def plain(model: RunFile | None) -> dict[str, Any]:
    """A run file's content as JSON values (empty for a file the run did not write): what
    redaction walks."""
    return model.to_json() if model is not None else {}


def _optional(run: RunFolder, name: str, model: type[Any]) -> Any:
    """The file as its model; None only when it is absent. Something else in its place (a
    FIFO, a folder, a dangling or looping link) is refused by name, never taken as absent."""
    return run.read_model(name, model) if os.path.lexists(run.file(name)) else None


REPORT_READS = (layout.CONFIG, layout.METRICS, layout.AUDIT, layout.HISTORY,
                layout.EXPORT_REPORT, f"{layout.EXTERNAL}/*/{layout.METRICS}",
                layout.SPLIT_JSON, layout.SPLITS_CSV)
"""The run files a report reads, checked against the run's record first, and the split it
describes (a report of a folder whose split was changed would describe another run)."""


def read_run(run_dir: str | Path) -> RunRecord:
    """Read a run folder for reporting, once, after checking its files against its record
    (:mod:`bamnet_core.runs.integrity`).

    :raises RunError: when ``run_dir`` is not a run folder, or a file is damaged or not
        what the run wrote.
    """
    path = Path(run_dir).expanduser()
    if not path.is_dir() or not (path / layout.CONFIG).is_file():
        raise RunError(f"{path} is not a bamnet run folder (no {layout.CONFIG})",
                       hint="pass a folder that `bamnet run` created, e.g. runs/<stamp>-<name>")
    run = RunFolder(path)
    refuse_changed(run, REPORT_READS)  # a run without a record is read as it is
    text, config = read_config(path / layout.CONFIG)
    history: list[dict[str, str]] = []
    if (path / layout.HISTORY).is_file():
        with open(path / layout.HISTORY, newline="", encoding="utf-8") as fh:
            history = list(csv.DictReader(fh))
    external = {}
    if (path / layout.EXTERNAL).is_dir():
        for sub in sorted((path / layout.EXTERNAL).iterdir()):
            name = f"{layout.EXTERNAL}/{sub.name}/{layout.METRICS}"
            if run.file(name).is_file():
                external[sub.name] = run.read_model(name, MetricsFile)
    return RunRecord(path=path, config_text=text,
                     config=config, meta=_optional(run, layout.META, MetaFile),
                     metrics=_optional(run, layout.METRICS, MetricsFile),
                     audit=_optional(run, layout.AUDIT, AuditFile),
                     history=history, external=external,
                     export=_optional(run, layout.EXPORT_REPORT, ExportReportFile))


def record_of(path: str | Path, *, config: dict[str, Any] | None = None,
              metrics: dict[str, Any] | None = None, audit: dict[str, Any] | None = None,
              meta: dict[str, Any] | None = None,
              external: dict[str, dict[str, Any]] | None = None) -> RunRecord:
    """A record from JSON values, validated like files (a hand-made record; the redacted copy).

    ``config`` may leave out sections it cannot default (``[data]``, ``[backbone]``).
    """
    where = str(Path(path) / layout.CONFIG)
    document = config or {}
    return RunRecord(
        path=Path(path), config_text="", config=config_of(document, where, partial=True),
        meta=MetaFile.from_json(meta, layout.META) if meta else None,
        metrics=MetricsFile.from_json(metrics, layout.METRICS) if metrics else None,
        audit=AuditFile.from_json(audit, layout.AUDIT) if audit else None,
        external={k: MetricsFile.from_json(v, f"{layout.EXTERNAL}/{k}/{layout.METRICS}")
                  for k, v in (external or {}).items()})
