"""The last stages of a run, which can also be redone alone: the report, then the export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._util.progress import ProgressCallback
from ..config.resolved import Config
from ..errors import RunError
from ..runs import folder as rf
from ..runs import layout
from .report_stage import write_report_safely
from .stages import RunResult, StageTimer


def export_run(config: Config, run_dir: Path, progress: ProgressCallback) -> dict[str, str]:
    """The export stage: ``model.onnx`` (and the variants ``[export]`` asks for), gated."""
    from ..export.onnx_export import export_onnx

    options = config.export
    result = export_onnx(run_dir, opset=options.opset, int8=options.int8,
                         fp16=options.fp16, calibration_images=options.calibration_images,
                         progress=progress)
    return {"model": str(result.model_path), **{f"model_{name}": str(path) for name, path
                                                 in result.variants.items()}}


def finish_run(config: Config, run: rf.RunFolder, meta: dict[str, Any],
            progress: ProgressCallback, start: str) -> RunResult:
    """Redo the report and/or the export of a run whose model and metrics exist.

    :param start: ``report`` (then the export, when configured) or ``export``.
    """
    if not run.file(layout.METRICS).is_file():
        raise RunError(f"{run.file(layout.METRICS)} is missing: the run never finished evaluating",
                       hint=f"resume it first: bamnet run --resume {run.path}")
    timer = StageTimer(progress)
    files: dict[str, str] = {}
    try:
        if start == "report":
            with timer.stage("report"):
                meta["report"] = write_report_safely(run.path, progress)
            files["report"] = str(run.file("report.html"))
        if config.export.onnx:
            with timer.stage("export"):
                files.update(export_run(config, run.path, progress))
            meta["export"] = files
        meta["status"] = "complete"
        return RunResult(run_dir=run.path, metrics=run.read_json(layout.METRICS), warnings=[],
                         files=files)
    except BaseException as exc:
        meta["status"], meta["error"] = "failed", str(exc)
        raise
    finally:
        meta["finished_at"] = rf.utc_now()
        meta["timings_s"] = {**meta.get("timings_s", {}), **timer.timings}
        run.write_json(layout.META, meta)
