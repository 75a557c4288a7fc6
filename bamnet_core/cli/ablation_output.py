"""``bamnet run CONFIG --ablate generator``: run both variants, print them side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from ..config.resolved import Config
from ..plugins.manager import PluginHost
from .noise import preload_keras
from .output import out, print_json, warn
from .progress_display import RichProgress


def _cell(value: Any, signed: bool = False) -> str:
    if not isinstance(value, float):
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def comparison_table(comparison: dict[str, Any]) -> Table:
    """One row per split and metric: with, without, difference."""
    table = Table("split", "metric", "with generator", "without", "difference")
    for row in comparison["metrics"]:
        table.add_row(row["split"], row["metric"], _cell(row["with_generator"]),
                      _cell(row["without_generator"]), _cell(row["difference"], signed=True))
    return table


def run_ablation_command(cfg: Config, host: PluginHost, *, ablate: str, output_dir: Path,
                         json_: bool) -> None:
    """Run the ablation and render its comparison (JSON on stdout with ``--json``)."""
    from ..experiment.ablation import run_ablation

    preload_keras()
    with RichProgress(enabled=not json_) as progress:
        result = run_ablation(cfg, host, ablate=ablate, output_dir=output_dir,
                              progress=progress)
    if json_:
        print_json({"folder": str(result.folder), "comparison": result.comparison,
                    "runs": {k: str(v.run_dir) for k, v in result.runs.items()}})
        return
    for message in dict.fromkeys(m for r in result.runs.values() for m in r.warnings):
        warn(message)
    console = out()
    console.print(comparison_table(result.comparison))
    for quality in (result.comparison.get("gan_quality") or {}).values():
        if "fid" in quality:
            console.print(f"GAN quality in {quality['space']}: FID {quality['fid']:.3f}, "
                          f"KID {quality['kid']:.4f}, near-copies "
                          f"{quality['memorisation']['near_copies']}/"
                          f"{quality['synthetic_images']}", highlight=False, soft_wrap=True)
    console.print(f"Ablation folder: {result.folder}", highlight=False, soft_wrap=True)
