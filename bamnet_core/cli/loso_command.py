"""``bamnet loso CONFIG``: one run per held-out source, and their test metrics."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ..config.resolved import Config
from ..plugins.manager import PluginHost
from ..runs.files import LosoFile
from .evidence_display import render_verdict
from .noise import preload_keras
from .output import JsonOption, SetOption, UnsetOption, out, print_json, print_table, warn
from .progress import RichProgress
from .run_options import (
    RUNS,
    ConfigArgument,
    DataOption,
    OutputDirOption,
    SeedOption,
    load_run_config,
)
from .state import CLIState


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``loso`` command to ``app``."""

    @app.command("loso")
    def loso(
        config: ConfigArgument,
        set_: SetOption = None,
        unset: UnsetOption = None,
        seed: SeedOption = None,
        data: DataOption = None,
        output_dir: OutputDirOption = RUNS,
        json_: JsonOption = False,
    ) -> None:
        """Leave one source out: one run per source, trained without it and tested on it.

        Writes a folder holding the run folders and loso.csv.
        """
        host = state.healthy_host()
        cfg = load_run_config(host, config, set_=set_, unset=unset, seed=seed, data=data)
        run_loso_command(cfg, host, output_dir=output_dir, json_=json_)


def loso_table(summary: LosoFile) -> Table:
    """One row per held-out source: its images, classes and test metrics."""
    table = Table("held-out source", "images", "classes", "accuracy", "sens.", "spec.", "AUC",
                  title="Leave one source out: trained without the source, tested on it")
    for row in summary.sources:
        cells = [f"{v:.3f}" if isinstance(v, float) else "-"
                 for v in (row.accuracy, row.sensitivity, row.specificity, row.roc_auc)]
        table.add_row(row.source, str(row.images), " ".join(row.classes), *cells)
    return table


def run_loso_command(cfg: Config, host: PluginHost, *, output_dir: Path, json_: bool) -> None:
    """Run leave-one-source-out and render its summary (JSON on stdout with ``--json``)."""
    from ..experiment.loso import plan_loso, run_loso

    planned = plan_loso(cfg, host)  # every check, before Keras loads
    preload_keras()
    with RichProgress(enabled=not json_) as progress:
        result = run_loso(cfg, host, output_dir=output_dir, progress=progress,
                          planned=planned)
    if json_:
        print_json({"folder": str(result.folder), "verdict": result.verdict.to_dict(),
                    "summary": result.summary.model_dump(mode="json", exclude_unset=True,
                                                         exclude={"schema_version", "verdict"}),
                    "runs": {k: str(v.run_dir) for k, v in result.runs.items()}})
        return
    for source, message in result.summary.failed.items():
        warn(f"holding out {source} failed: {message}")
    if result.summary.skipped:
        warn(f"not held out (fewer than {result.summary.min_images} images): "
             f"{', '.join(result.summary.skipped)}")
    console = out()
    print_table(console, loso_table(result.summary))
    console.print("A source with one class has no ROC-AUC; its sensitivity or specificity is "
                  "the share of that hospital's images the model still gets right.",
                  highlight=False, soft_wrap=True)
    render_verdict(result.verdict, console, title="Verdict: does a model trained this way hold "
                   "up on a hospital it never saw?")
    console.print(f"LOSO folder: {result.folder} (report.html, model-card.md)",
                  highlight=False, soft_wrap=True)
