"""The last stage of a run: its report, built so that a report failure never loses the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._util.progress import ProgressCallback, ProgressEvent
from ..errors import BamnetError


def write_report_safely(run_dir: Path, progress: ProgressCallback) -> dict[str, Any]:
    """Build ``report.html`` and ``model-card.md``; return where, or the error as data.

    Metrics are already on disk when this runs; a report that cannot be built
    is recorded in ``meta.json`` and can be rebuilt with ``bamnet report RUN_DIR``.
    """
    from ..report import build_report

    progress(ProgressEvent("report", 0, 1, "report"))
    try:
        files = build_report(run_dir)
    except (BamnetError, OSError, ValueError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}",
                "hint": f"rebuild it with: bamnet report {run_dir}"}
    progress(ProgressEvent("report", 1, 1, "report"))
    return {"html": files.html.name, "model_card": files.model_card.name,
            "plots": len(files.plots)}
