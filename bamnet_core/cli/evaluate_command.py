"""``bamnet evaluate RUN_DIR --data PATH|PRESET``: external validation of a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .noise import preload_keras
from .output import JsonOption, out, print_json, print_table, warn
from .progress import RichProgress
from .run_command import metrics_json, summary_table
from .state import CLIState


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``evaluate`` command to ``app``."""

    @app.command("evaluate")
    def evaluate(
        run_dir: Annotated[Path, typer.Argument(help="A run folder made by `bamnet run`.")],
        data: Annotated[str, typer.Option(
            "--data", help="Dataset folder, manifest CSV, or a preset whose \\[data] section "
                       "to use. The run's images, copies of them (saved again, resized, "
                       "padded, cropped, flipped, brightened) and images of its patients "
                       "are excluded and counted apart.")],
        source: Annotated[str | None, typer.Option(
            "--source", help="Read --data with this dataset source instead of detecting.")]
            = None,
        name: Annotated[str | None, typer.Option(
            "--name", help="Name of the results folder RUN_DIR/external/NAME.")] = None,
        replace: Annotated[bool, typer.Option(
            "--replace", help="Let these results replace an earlier evaluation of other "
                              "data under the same name.")] = False,
        json_: JsonOption = False,
    ) -> None:
        """Evaluate a trained model on another dataset; add it to the run's report."""
        host = state.healthy_host()
        from ..experiment.external import evaluate_external

        preload_keras()
        with RichProgress(enabled=not json_) as progress:
            result = evaluate_external(run_dir, host, data=data, source=source, name=name,
                                       replace=replace, progress=progress)
        if json_:
            from ..report.run_summary import split_summary

            print_json({"folder": str(result.folder), "metrics": metrics_json(result.metrics),
                        "summary": split_summary(result.metrics), "report": result.report})
            return
        overlap = result.metrics.overlap
        if overlap is not None and overlap.excluded:
            warn(f"{overlap.sentence}; metrics are on the {overlap.kept} of "
                 f"{overlap.images} images that are neither")
        if overlap is not None and overlap.run_images_unread:
            warn(f"{overlap.run_images_unread} of the run's own images could not be read "
                 "(moved or deleted?): copies of them could not be looked for, only their "
                 "patients; evaluate where the run's data is")
        print_table(out(), summary_table(result.metrics))
        if "error" in result.report:
            warn(f"the report could not be rebuilt: {result.report['error']}")
        out().print(f"Results: {result.folder}", highlight=False, soft_wrap=True)
