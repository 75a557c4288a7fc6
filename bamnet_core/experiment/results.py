"""What each stage of a run returns, and what a whole run returns: typed, frozen results.

A stage's :meth:`~.stages.Stage.run` (or, on resume, its
:meth:`~.stages.Stage.keep`) returns one of these; the driver
(:func:`~.pipeline.drive`) stores it on the context (:class:`StageResults`) and
writes its :meth:`~StageResult.facts` into the stage's record in ``meta.json``.
Later stages read earlier results through the context, by type:
``ctx.results.need(AuditResult).report``.

This module sits below both the stages and the context, so that neither has
to import the other for a type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..config.schema import ReportSection
from ..data.splits import PatientSplit
from ..errors import RunError
from ..report.verdict import Verdict
from ..runs.files import AuditFile, MetricsFile
from ..runs.metrics_file import EvaluatorError


class StageResult:
    """What a stage left for the stages after it, and what ``meta.json`` records of it."""

    def facts(self) -> dict[str, Any]:
        """JSON-able facts for the stage's record in ``meta.json`` ``stages``."""
        return {}

    def meta(self) -> dict[str, Any]:
        """Top-level ``meta.json`` entries the stage owns (``training``, ``report``, ...)."""
        return {}

    def done_note(self) -> str:
        """A few words on what the stage made, for its ``done`` line ("" for none)."""
        return ""


@dataclass(frozen=True)
class DataPlan:
    """The data listing and split of a run, made before anything is written.

    :param split: the split (real images only).
    :param notes: the sources' notes, for the audit.
    :param seconds: how long listing and splitting took.
    """

    split: PatientSplit
    notes: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class DataResult(StageResult):
    """The data stage's split and the sources' notes (``split.json``)."""

    split: PatientSplit
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneratorResult(StageResult):
    """The split with the generator's images in training, and its summary for ``metrics.json``.

    :param made: how many images this attempt made (none when they were kept).
    """

    split: PatientSplit
    synthesis: dict[str, Any]
    made: int = 0

    def facts(self) -> dict[str, Any]:
        """``synthetic``: the images made."""
        return {"synthetic": self.made}

    def done_note(self) -> str:
        """``made 12 images``; for none, why (``made 0 images; 'covid' already has ...``)."""
        note = self.synthesis.get("note") if not self.made else None
        made = f"made {self.made} image{'s' if self.made != 1 else ''}"
        return f"{made}; {note}" if note else made


@dataclass(frozen=True)
class DecodeResult(StageResult):
    """How many images of each split decoded (empty when a redo needed no pixels)."""

    decoded: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditResult(StageResult):
    """``data-audit.json`` and the image properties the later comparison needs."""

    report: AuditFile
    properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        """The audit's warnings."""
        return list(self.report.warnings)

    def facts(self) -> dict[str, Any]:
        """``warnings``: how many the audit found."""
        return {"warnings": len(self.warnings)}


@dataclass(frozen=True)
class TrainResult(StageResult):
    """The training facts (``meta.json`` ``training``), and the model when it is in memory.

    :param model: None when the stage was kept, or when the model was made under the
        multi-worker strategy: later stages load ``model.keras`` then.
    :param epochs: epochs run (None when kept).
    """

    training: dict[str, Any]
    model: Any = None
    device: dict[str, Any] | None = None
    epochs: int | None = None

    def facts(self) -> dict[str, Any]:
        """``epochs``: how many ran."""
        return {} if self.epochs is None else {"epochs": self.epochs}

    def meta(self) -> dict[str, Any]:
        """``training`` and ``device``."""
        return {"training": self.training,
                **({"device": self.device} if self.device is not None else {})}


@dataclass(frozen=True)
class EvaluateResult(StageResult):
    """``metrics.json``, and each split's true class indices and probabilities."""

    metrics: MetricsFile
    predictions: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def evaluator_errors(self) -> list[EvaluatorError]:
        """The evaluators that failed, one entry each."""
        return list(self.metrics.evaluator_errors)

    @property
    def warnings(self) -> list[str]:
        """What evaluation found that a reader must be warned of (subgroup gaps)."""
        return list(self.metrics.warnings)

    def facts(self) -> dict[str, Any]:
        """``evaluator_errors``: how many evaluators failed."""
        return {"evaluator_errors": len(self.evaluator_errors)}


@dataclass(frozen=True)
class ExportResult(StageResult):
    """The exported files (key -> path), or why the export was skipped.

    :param later: the command that exports where it can, when skipped.
    """

    files: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None
    later: str | None = None

    def facts(self) -> dict[str, Any]:
        """Why the export was skipped, and the command that exports later, if so."""
        return {} if self.skipped is None else {"skipped": self.skipped,
                                                "export_later": self.later}

    def meta(self) -> dict[str, Any]:
        """``export``: the files (only when something was exported)."""
        return {"export": dict(self.files)} if self.skipped is None else {}


@dataclass(frozen=True)
class ReportResult(StageResult):
    """Where the report is, and ``meta.json`` ``report``: its files, or why it failed.

    :param outcome: ``{"html", "model_card", "plots"}`` or ``{"error", "hint"}``.
    :param verdict: the verdict the report opens with (None when kept or failed), so the
        run's summary shows it without reading the folder again.
    """

    outcome: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    verdict: Verdict | None = None

    def meta(self) -> dict[str, Any]:
        """``report``."""
        return {"report": self.outcome}


R = TypeVar("R", bound=StageResult)


class StageResults:
    """The results of the stages that ran or were kept in this attempt, by type."""

    def __init__(self) -> None:
        self._by_type: dict[type[StageResult], StageResult] = {}

    def add(self, result: StageResult) -> None:
        """Store ``result`` (a stage that runs again replaces its earlier result)."""
        self._by_type[type(result)] = result

    def get(self, kind: type[R]) -> R | None:
        """The result of that type, or None when its stage did not run (or is not configured)."""
        found = self._by_type.get(kind)
        return found if isinstance(found, kind) else None

    def need(self, kind: type[R]) -> R:
        """The result of that type.

        :raises RunError: when a stage reads a result its stage did not leave (a fault
            of the stage order, not of the run).
        """
        found = self.get(kind)
        if found is None:
            raise RunError(f"internal: a stage needs the {kind.__name__} before its stage ran")
        return found


@dataclass(frozen=True)
class RunResult:
    """What a finished (or stopped) run produced.

    :param metrics: ``metrics.json`` as the evaluate stage wrote it (empty when the run
        stopped before evaluating).
    :param warnings: the audit's warnings, then those evaluation added.
    :param verdict: the report's verdict, when the report stage built it in this attempt.
    :param report_settings: the run's ``[report]`` section (the support rule's counts).
    :param worker: set on a worker other than the chief of a multi-worker run
        (``"worker 1 of 2 (host:port)"``): its ``run_dir`` was scratch, now removed.
    """

    run_dir: Path
    metrics: MetricsFile
    warnings: list[str]
    files: dict[str, str] = field(default_factory=dict)
    worker: str | None = None
    verdict: Verdict | None = None
    report_settings: ReportSection | None = None
