"""The export stage: ``model.onnx`` (and the variants ``[export]`` asks for), parity-gated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._util.progress import ProgressCallback, ProgressEvent
from ..config.resolved import Config
from ..runs import layout
from .context import RunContext
from .stages import Stage


def export_run(config: Config, run_dir: Path, progress: ProgressCallback) -> dict[str, str]:
    """Export the run's ``model.keras`` as ``[export]`` says; return the files written.

    On a backend other than TensorFlow the conversion runs in a TensorFlow child
    process (:mod:`bamnet_core.export.tensorflow_process`).
    """
    from ..train.backend import import_keras

    options = config.export
    chosen = {"opset": options.opset, "int8": options.int8, "fp16": options.fp16,
              "calibration_images": options.calibration_images}
    if import_keras().backend.backend() != "tensorflow":
        from ..export.tensorflow_process import export_in_tensorflow

        return export_in_tensorflow(run_dir, chosen, progress)
    from ..export.onnx_export import export_onnx

    result = export_onnx(run_dir, progress=progress, **chosen)
    return {"model": str(result.model_path), **{f"model_{name}": str(path) for name, path
                                                 in result.variants.items()}}


class ExportStage(Stage):
    """Export to ONNX; skipped when ``[export] onnx = false`` or an evaluator failed."""

    name = "export"
    records = (layout.ONNX, layout.EXPORT_REPORT)
    rerunnable = True

    def configured(self, config: Config) -> bool:
        """Only with ``[export] onnx = true``."""
        return config.export.onnx

    def enabled(self, ctx: RunContext) -> bool:
        """Configured, and every evaluator succeeded (a failed run ships no model)."""
        return self.configured(ctx.config) and not (ctx.metrics or {}).get("evaluator_errors")

    def keep(self, ctx: RunContext) -> bool:
        """Kept when an earlier attempt exported and ``model.onnx`` is there."""
        exported = ctx.meta.get("export")
        if not ctx.finished(self.name) or not isinstance(exported, dict) or \
                not ctx.run.file(layout.ONNX).is_file():
            return False
        ctx.files.update({k: ctx.run.resolve(v) for k, v in exported.items()
                          if isinstance(v, str)})
        return True

    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        """Export, gated by the parity check; on a machine without TensorFlow (a run on
        JAX or PyTorch), skipped with a notice naming the command that exports later."""
        from ..export.tensorflow_process import tensorflow_installed
        from ..train.backend import import_keras

        if import_keras().backend.backend() != "tensorflow" and not tensorflow_installed():
            later = f"bamnet export {ctx.run.path} --onnx"
            ctx.progress(ProgressEvent("notice", 0, None,
                                       "ONNX export skipped: it converts through TensorFlow, "
                                       f"which is not installed here; `{later}` exports "
                                       "where it is"))
            return {"skipped": "TensorFlow is not installed", "export_later": later}
        files = export_run(ctx.config, ctx.run.path, ctx.progress)
        ctx.files.update(files)
        ctx.meta["export"] = files
        return None
