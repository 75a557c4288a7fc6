"""``bamnet export RUN_DIR --onnx``: a verified, self-describing ONNX model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import BamnetError
from .noise import preload_keras
from .output import JsonOption, err, out, print_json, warn
from .progress_display import RichProgress
from .state import CLIState


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
        json_: JsonOption = False,
    ) -> None:
        """Export a trained model; refuse if onnxruntime disagrees with Keras."""
        if not onnx:
            raise BamnetError("choose an export format", hint=f"bamnet export {run_dir} --onnx")
        from ..export.onnx_export import export_onnx

        preload_keras()

        with RichProgress(enabled=not json_) as progress:
            result = export_onnx(run_dir, output=output, opset=opset, int8=int8, fp16=fp16,
                                 progress=progress)
        if json_:
            print_json(result.report)
            return
        table = Table("model", "max |diff| vs Keras", "accuracy", "roc_auc", "images/s",
                      "vs fp32")
        for name, entry in result.report["models"].items():
            parity = entry["parity_vs_keras"]
            auc = entry["roc_auc"]
            table.add_row(name, f"{parity['max_abs_diff']:.2e}", f"{entry['accuracy']:.3f}",
                          "-" if auc is None else f"{auc:.3f}",
                          f"{entry['inference_images_per_s']:.1f}",
                          f"{entry.get('speed_ratio_vs_fp32', 1.0):.2f}x")
            if parity["mismatched_labels"]:
                warn(f"{name} changes the label of {parity['mismatched_labels']} of "
                     f"{parity['images']} validation images")
        out().print(table)
        err().print(f"Parity gate passed on {result.report['validation_images']} validation "
                    "images.", highlight=False)
        for path in [result.model_path, *result.variants.values(), result.report_path]:
            out().print(f"Wrote {path}", highlight=False, soft_wrap=True)
