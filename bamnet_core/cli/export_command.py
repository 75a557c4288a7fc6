"""``bamnet export RUN_DIR --onnx``: a verified, self-describing ONNX model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import BamnetError
from ..export.gates import GateError, GateLimits
from .noise import preload_keras
from .output import JsonOption, err, out, print_json, print_table, warn
from .progress import RichProgress
from .state import CLIState

if TYPE_CHECKING:
    from ..export.onnx_export import ExportResult


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``export`` command to ``app``."""

    @app.command("export")
    def export(
        run_dir: Annotated[Path, typer.Argument(help="A run folder made by `bamnet run`.")],
        onnx: Annotated[bool, typer.Option("--onnx", help="Export to ONNX.")] = False,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="Model file (default RUN_DIR/model.onnx).")] = None,
        opset: Annotated[int, typer.Option("--opset", help="ONNX opset.")] = 17,
        int8: Annotated[bool, typer.Option(
            "--int8", help="Also write <stem>.int8.onnx: static int8, for CPUs.")] = False,
        fp16: Annotated[bool, typer.Option(
            "--fp16", help="Also write <stem>.fp16.onnx: half precision, for GPUs.")] = False,
        calibration_images: Annotated[int, typer.Option(
            "--calibration-images", min=1, help="Training images that calibrate int8.")] = 64,
        parity_images: Annotated[int, typer.Option(
            "--parity-images", min=1,
            help="Validation images the gates compare models on.")] = 256,
        min_label_agreement: Annotated[float, typer.Option(
            "--min-label-agreement",
            help="int8/fp16 gate: least fraction of validation images keeping the fp32 "
                 "label.")] = GateLimits.min_label_agreement,
        max_accuracy_drop: Annotated[float, typer.Option(
            "--max-accuracy-drop",
            help="int8/fp16 gate: most validation accuracy lost against fp32, in "
                 "percentage points.")] = GateLimits.max_accuracy_drop,
        max_auc_drop: Annotated[float, typer.Option(
            "--max-auc-drop", help="int8/fp16 gate: most validation ROC AUC lost against "
                                   "fp32.")] = GateLimits.max_auc_drop,
        allow_degraded: Annotated[bool, typer.Option(
            "--allow-degraded", help="Write a variant that fails its gate anyway, and exit 0."
        )] = False,
        json_: JsonOption = False,
    ) -> None:
        """Export a trained model; refuse files that fail their gate."""
        from ..experiment.export_stage import carried_facts
        from ..export.onnx_export import export_onnx, exportable_run

        exportable_run(run_dir)  # a folder that is not a run says so first, with its own hint
        if not onnx:
            raise BamnetError("choose an export format: --onnx (ONNX is the one there is)",
                              hint=f"bamnet export {run_dir} --onnx")

        limits = GateLimits(min_label_agreement=min_label_agreement,
                            max_accuracy_drop=max_accuracy_drop, max_auc_drop=max_auc_drop)
        preload_keras()

        with RichProgress(enabled=not json_) as progress:
            result = export_onnx(run_dir, carried=carried_facts(run_dir), output=output,
                                 opset=opset, int8=int8, fp16=fp16,
                                 calibration_images=calibration_images,
                                 parity_images=parity_images, limits=limits,
                                 allow_degraded=allow_degraded, progress=progress)
        if json_:
            print_json(result.report)
        else:
            _render(result)
        refused = [n for n in result.refused if not result.gates[n].written]
        if refused:
            first = result.gates[refused[0]]
            raise GateError(f"the {first.model} variant failed its gate against fp32 "
                            f"({first.summary()}); it was not written",
                            hint=f"see {result.report_path}; "
                                 + ("every int8 recipe was tried (its 'attempts'); " if
                                    first.model == "int8" else "")
                                 + "score with the fp32 model, or pass --allow-degraded to "
                                   "write it anyway")


def _render(result: ExportResult) -> None:
    table = Table("model", "max |diff| vs Keras", "accuracy", "roc_auc", "images/s", "vs fp32",
                  "gate")
    for name, entry in result.report["models"].items():
        gate = result.gates[name]
        auc = entry["roc_auc"]
        speed = _speed(entry) + (" fastest" if entry.get("fastest") else "")
        ratio = f"{entry.get('speed_ratio_vs_fp32', 1.0):.2f}x" + (
            " slower" if entry.get("slower_than_fp32")
            else " faster" if entry.get("faster_than_fp32") else "")
        table.add_row(name, f"{entry['parity_vs_keras']['max_abs_diff']:.2e}",
                      f"{entry['accuracy']:.3f}", "-" if auc is None else f"{auc:.3f}",
                      speed, ratio, "passed" if gate.passed else "FAILED")
    print_table(out(), table)
    _render_attempts(result.report["models"].get("int8"))
    images = result.report["validation_images"]
    for name, gate in result.gates.items():
        path = Path(result.report["models"][name]["path"]).name
        if gate.passed:
            err().print(f"{name} gate (vs {gate.against}) passed for {path} on {images} "
                        f"validation images: {gate.summary()}", highlight=False, soft_wrap=True)
        elif gate.written:
            warn(f"{name} gate (vs {gate.against}) FAILED for {path}, written anyway "
                 f"(--allow-degraded): {gate.summary()}")
    timings = result.report.get("timings_s") or {}
    if timings:
        err().print("Export took " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds
                                                in timings.items()),
                    highlight=False, soft_wrap=True)
    entries = result.report["models"]
    fastest = result.report.get("fastest")
    if fastest:
        err().print(f"Fastest on this machine: {fastest}, {_speed(entries[fastest])} images/s "
                    "(median, and the slowest and fastest timing round)", highlight=False,
                    soft_wrap=True)
    elif sum(gate.passed for gate in result.gates.values()) > 1:
        err().print("No model is faster than the others on this machine: their speed ranges "
                    "overlap", highlight=False, soft_wrap=True)
    for name, entry in entries.items():
        if entry.get("slower_than_fp32") and result.gates[name].written:
            warn(f"{name} is slower than fp32 on this machine "
                 f"({entry['speed_ratio_vs_fp32']:.2f}x): score with {entries['fp32']['path']}")
    written = [result.model_path, *result.variants.values(), result.report_path]
    for path in written:
        out().print(f"Wrote {path}", highlight=False, soft_wrap=True)


def _speed(entry: dict) -> str:
    """``median (slowest-fastest)`` images/s, 3 significant digits; the median alone from an
    older report."""
    def fmt(value: float) -> str:
        return f"{value:.3g}" if value < 1000 else f"{value:.0f}"

    low_high = entry.get("inference_images_per_s_range")
    median = fmt(entry.get("inference_images_per_s") or 0.0)
    return f"{median} ({fmt(low_high[0])}-{fmt(low_high[1])})" if low_high else median


def _render_attempts(int8: dict | None) -> None:
    """One line per int8 recipe tried: its gate numbers, and which one the file holds."""
    if not int8 or not int8.get("attempts"):
        return
    for number, attempt in enumerate(int8["attempts"], 1):
        checks = "; ".join(f"{c['check']} {c['value']:.4g}" if c["value"] is not None
                           else f"{c['check']} -" for c in attempt["checks"])
        verdict = "passed" if attempt["passed"] else "failed"
        err().print(f"int8 attempt {number} ({attempt['recipe']}): {verdict}: {checks}",
                    highlight=False, soft_wrap=True)
    err().print(f"int8 file holds: {int8['recipe']}", highlight=False, soft_wrap=True)
