"""``bamnet ablate CONFIG``: run with and without the generator, print them side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..config.resolved import Config
from ..experiment.ablation import ABLATABLE
from ..plugins.manager import PluginHost
from ..runs.files import ComparisonFile
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

StageOption = Annotated[str, typer.Option(
    "--stage", help=f"The stage to run with and without ({', '.join(ABLATABLE)}).")]


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``ablate`` command to ``app``."""

    @app.command("ablate")
    def ablate(
        config: ConfigArgument,
        set_: SetOption = None,
        unset: UnsetOption = None,
        seed: SeedOption = None,
        data: DataOption = None,
        output_dir: OutputDirOption = RUNS,
        stage: StageOption = ABLATABLE[0],
        json_: JsonOption = False,
    ) -> None:
        """Run a config twice, with and without its generator, same seed and split; compare.

        Writes a folder holding both run folders and the comparison.
        """
        if stage not in ABLATABLE:
            raise typer.BadParameter(f"use {', '.join(ABLATABLE)}", param_hint="--stage")
        host = state.healthy_host()
        cfg = load_run_config(host, config, set_=set_, unset=unset, seed=seed, data=data)
        run_ablation_command(cfg, host, ablate=stage, output_dir=output_dir, json_=json_)


def _cell(value: Any, signed: bool = False) -> str:
    if not isinstance(value, float):
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def comparison_table(comparison: ComparisonFile) -> Table:
    """One row per split and metric: with, without, difference."""
    table = Table("split", "metric", "with generator", "without", "difference",
                  "95% interval (paired)", "note")
    for row in comparison.metrics:
        low, high = row.interval_low, row.interval_high
        ci = f"{low:+.3f} to {high:+.3f}" if low is not None and high is not None else "-"
        note = f"[bold red]degenerate: {row.degenerate}[/]" if row.degenerate else \
            ("" if row.significant else "[dim]not significant[/]")
        table.add_row(row.split, row.metric, _cell(row.with_generator),
                      _cell(row.without_generator), _cell(row.difference, signed=True),
                      ci, note)
    return table


def run_ablation_command(cfg: Config, host: PluginHost, *, ablate: str, output_dir: Path,
                         json_: bool) -> None:
    """Run the ablation and render its comparison (JSON on stdout with ``--json``)."""
    from ..experiment.ablation import plan_ablation, run_ablation

    planned = plan_ablation(cfg, host, ablate=ablate)  # every check, before Keras loads
    preload_keras()
    with RichProgress(enabled=not json_) as progress:
        result = run_ablation(cfg, host, ablate=ablate, output_dir=output_dir,
                              progress=progress, planned=planned)
    if json_:
        print_json({"folder": str(result.folder),
                    "comparison": result.comparison.model_dump(
                        mode="json", exclude_unset=True, exclude={"schema_version"}),
                    "runs": {k: str(v.run_dir) for k, v in result.runs.items()}})
        return
    for message in dict.fromkeys(m for r in result.runs.values() for m in r.warnings):
        warn(message)
    console = out()
    print_table(console, comparison_table(result.comparison))
    for quality in (result.comparison.gan_quality or {}).values():
        if "fid" in quality:
            console.print(f"GAN quality in {quality['space']}: FID {quality['fid']:.3f}, "
                          f"KID {quality['kid']:.4f}, near-copies "
                          f"{quality['memorisation']['near_copies']}/"
                          f"{quality['synthetic_images']}", highlight=False, soft_wrap=True)
    console.print(f"Ablation folder: {result.folder}", highlight=False, soft_wrap=True)
