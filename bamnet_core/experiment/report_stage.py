"""The report stage: ``report.html`` and the model card; a report failure never loses the run.

It runs last, after the export, so the report can show the export's gate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._util.diskspace import is_disk_full
from .._util.progress import ProgressCallback, ProgressEvent
from ..errors import BamnetError, DiskFullError
from ..report.verdict import Verdict
from ..runs import layout
from .context import RunContext
from .results import ReportResult
from .stages import Stage


def write_report_safely(run_dir: Path, progress: ProgressCallback
                        ) -> tuple[dict[str, Any], Verdict | None]:
    """Build ``report.html`` and ``model-card.md``; return where (or the error as data), and
    the verdict the report opens with (None when it failed).

    Metrics are already on disk when this runs; a report that cannot be built
    is recorded in ``meta.json`` and can be rebuilt with ``bamnet report RUN_DIR``.
    """
    from ..report import build_reports

    progress(ProgressEvent("report", 0, 1, "report"))
    try:
        files, shared = build_reports(run_dir)  # [report] redact = true: a shareable copy too
    except (BamnetError, OSError, ValueError) as exc:
        if isinstance(exc, DiskFullError) or is_disk_full(exc):
            raise  # not a report problem: the run fails, naming the disk
        return {"error": f"{type(exc).__name__}: {exc}",
                "hint": f"rebuild it with: bamnet report {run_dir}"}, None
    progress(ProgressEvent("report", 1, 1, "report"))
    done: dict[str, Any] = {"html": files.html.name, "model_card": files.model_card.name,
                            "plots": len(files.plots)}
    if shared is not None:
        done["shareable"] = layout.SHAREABLE
    return done, files.verdict


class ReportStage(Stage):
    """Build ``report.html`` and ``model-card.md`` from the run folder."""

    name = "report"
    rerunnable = True

    def keep(self, ctx: RunContext) -> ReportResult | None:
        """Kept when an earlier attempt built it."""
        if not ctx.finished(self.name) or not ctx.run.file(layout.REPORT).is_file():
            return None
        return ReportResult(ctx.meta.report or {},
                            {"report": str(ctx.run.file(layout.REPORT))})

    def run(self, ctx: RunContext) -> ReportResult:
        """Build the report; a report that fails is recorded, and the run goes on."""
        outcome, verdict = write_report_safely(ctx.run.path, ctx.progress)
        files = {} if "error" in outcome else {"report": str(ctx.run.file(layout.REPORT))}
        return ReportResult(outcome, files, verdict)
