"""The driver stores each stage's typed result on the context and records its facts in meta.json;
a kept stage gives back the same type, read from the folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bamnet_core.config.schema import ReportSection
from bamnet_core.errors import RunError
from bamnet_core.experiment import pipeline
from bamnet_core.experiment.context import RunContext
from bamnet_core.experiment.results import AuditResult, StageResult, StageResults
from bamnet_core.experiment.stages import Stage
from bamnet_core.runs import layout
from bamnet_core.runs.files import AuditFile, MetaFile
from bamnet_core.runs.folder import RunFolder, base_meta


@dataclass(frozen=True)
class Counted(StageResult):
    """A fake stage's result: a count, recorded in meta.json."""

    count: int

    def facts(self) -> dict[str, Any]:
        """``count``."""
        return {"count": self.count}


class Counting(Stage):
    """Writes ``count.txt``; kept from it on resume."""

    name = "count"

    def keep(self, ctx: RunContext) -> Counted | None:
        """The count an earlier attempt wrote."""
        return Counted(int(ctx.run.read_text("count.txt"))) if ctx.finished(self.name) else None

    def run(self, ctx: RunContext) -> Counted:
        """Count to 3."""
        ctx.run.write_text("count.txt", "3")
        return Counted(3)


class Reading(Stage):
    """Reads the counting stage's result through the context, by type."""

    name = "read"

    def run(self, ctx: RunContext) -> AuditResult:
        """An audit whose warning says what the count was."""
        return AuditResult(AuditFile(warnings=[f"counted {ctx.results.need(Counted).count}"]))


@pytest.fixture
def two_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    stages = (Counting(), Reading())
    monkeypatch.setattr(pipeline, "STAGES", stages)
    monkeypatch.setattr(pipeline, "NAMES", tuple(s.name for s in stages))


def _context(folder: Path, meta: MetaFile, *, resume: bool = False) -> RunContext:
    config = SimpleNamespace(report=ReportSection())  # what the driver reads of a config
    return RunContext(config=config, registry=None, run=RunFolder(folder),  # type: ignore[arg-type]
                      meta=meta, resume=resume)


def test_results_are_stored_by_type_and_their_facts_recorded(tmp_path: Path, two_stages):
    ctx = _context(tmp_path, base_meta(seed=0, plugin_pins=[], config_origin="test"))
    result = pipeline.drive(ctx)
    assert ctx.results.need(Counted) == Counted(3)
    assert result.warnings == ["counted 3"]
    meta = json.loads((tmp_path / layout.META).read_text())
    assert meta["status"] == "complete"
    assert meta["stages"]["count"]["count"] == 3 and meta["stages"]["read"]["warnings"] == 1
    again = _context(tmp_path, RunFolder(tmp_path).read_model(layout.META, MetaFile), resume=True)
    assert pipeline.drive(again).warnings == ["counted 3"]
    assert again.results.need(Counted) == Counted(3)  # kept: the same type, from the folder


def test_a_result_no_stage_left_is_an_internal_error_naming_its_type():
    with pytest.raises(RunError, match="internal: a stage needs the Counted"):
        StageResults().need(Counted)
