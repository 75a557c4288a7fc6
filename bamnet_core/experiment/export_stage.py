"""The export stage: ``model.onnx`` (and the variants ``[export]`` asks for), parity-gated.

It runs before the report, so the report can show the export's gate. What the
model carries about its run (redacted validation metrics and the model card's
summary) is made here, from the report's reading of the run folder, and handed
to the export: the export itself never imports the report.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util.progress import ProgressCallback, ProgressEvent
from ..config.resolved import Config
from ..runs import layout
from ..runs.folder import RunFolder
from ..runs.integrity import refuse_missing_key
from .context import RunContext
from .results import EvaluateResult, ExportResult
from .stages import Stage

if TYPE_CHECKING:
    from ..export.onnx_export import CarriedFacts


def carried_facts(run_dir: str | Path) -> CarriedFacts:
    """What a model exported from ``run_dir`` carries: redacted like a shareable report,
    whatever a source or an evaluator put into the run's metrics and notes.

    :raises RunError: when ``run_dir`` is not a run folder an export can start from.
    """
    from ..export.onnx_export import CarriedFacts, exportable_run
    from ..report.model_card import card_summary
    from ..report.record import read_run
    from ..report.redact import redact_record
    from ..report.verdict import verdict_of

    run = exportable_run(run_dir).path
    refuse_missing_key(run, why="the exported model's facts would name patients under a new key")
    shared = redact_record(read_run(run))
    val = shared.splits.get("val")
    verdict = verdict_of(shared) if shared.splits else None
    return CarriedFacts(metrics=val.model_dump(mode="json") if val is not None else {},
                        model_card=card_summary(shared),
                        verdict={"reading": verdict.reading, "sentence": verdict.sentence,
                                 "lines": verdict.text_lines()} if verdict else {},
                        threshold_source=threshold_source(shared))


def threshold_source(record: Any) -> str:
    """Where a run's decision threshold was chosen, in words (a model's SRs carry it)."""
    metrics = record.metrics
    said = getattr(metrics, "threshold_source", None) if metrics is not None else None
    if isinstance(said, str) and said:
        return said
    threshold = metrics.threshold if metrics is not None else None
    return (f"set in the run's config ([evaluate] threshold = {threshold!r}), not tuned on "
            "validation")


def export_run(config: Config, run: RunFolder, progress: ProgressCallback) -> dict[str, str]:
    """Export the run's ``model.keras`` as ``[export]`` says; return the files written.

    On a backend other than TensorFlow the conversion runs in a TensorFlow child
    process (:mod:`bamnet_core.export.tensorflow_process`).
    """
    from ..train.backend import import_keras

    options = config.export
    run_dir = run.path
    carried = carried_facts(run_dir)
    chosen = {"opset": options.opset, "int8": options.int8, "fp16": options.fp16,
              "calibration_images": options.calibration_images}
    if import_keras().backend.backend() != "tensorflow":
        from ..export.tensorflow_process import export_in_tensorflow

        return export_in_tensorflow(run_dir, {**chosen, "carried": asdict(carried)}, progress)
    from ..export.onnx_export import export_onnx

    result = export_onnx(run, carried=carried, progress=progress, **chosen)
    return {"model": str(result.model_path), **{f"model_{name}": str(path) for name, path
                                                 in result.variants.items()}}


class ExportStage(Stage):
    """Export to ONNX; skipped when ``[export] onnx = false`` or an evaluator failed."""

    name = "export"
    rerunnable = True

    def configured(self, config: Config) -> bool:
        """Only with ``[export] onnx = true``."""
        return config.export.onnx

    def enabled(self, ctx: RunContext) -> bool:
        """Configured, and every evaluator succeeded (a failed run ships no model)."""
        evaluated = ctx.results.get(EvaluateResult)
        return self.configured(ctx.config) and not (
            evaluated is not None and evaluated.evaluator_errors)

    def keep(self, ctx: RunContext) -> ExportResult | None:
        """Kept when an earlier attempt exported and ``model.onnx`` is there."""
        exported = ctx.meta.export
        if not ctx.finished(self.name) or exported is None or \
                not ctx.run.file(layout.ONNX).is_file():
            return None
        return ExportResult({k: ctx.run.resolve(v) for k, v in exported.items()
                             if isinstance(v, str)})

    def run(self, ctx: RunContext) -> ExportResult:
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
            return ExportResult(skipped="TensorFlow is not installed", later=later)
        return ExportResult(export_run(ctx.config, ctx.run, ctx.progress))
