"""The paper's ablation as one command: the same experiment with and without the generator.

``bamnet ablate CONFIG`` writes a parent folder holding two
sibling run folders (``<stamp>-with-generator``, ``<stamp>-without-generator``),
the resolved config both started from, and ``comparison.json`` /
``comparison.csv``: each headline metric per split, side by side, with the
difference and its paired patient-bootstrap interval; a run that predicts one
class for every image of a split is marked degenerate there. Same seed, same
data, same split: the comparison checks that the two runs' validation and test
splits are identical before it compares them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .._util.progress import ProgressCallback, silent
from ..config.resolved import Config
from ..errors import ConfigError, RunError
from ..plugins.manager import PluginHost
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import ComparisonFile, SplitMetrics
from ..runs.split_table import read_split_rows
from .paired_difference import excludes_zero, paired_differences
from .preflight import plan_run, preflight
from .results import DataPlan, RunResult
from .runner import run_experiment

ABLATABLE = ("generator",)
METRICS = ("accuracy", "balanced_accuracy", "sensitivity", "specificity", "roc_auc", "f1")


@dataclass(frozen=True)
class AblationPlan:
    """Both runs of an ablation, checked, and the data plan they share (same data, seed
    and split)."""

    variants: dict[str, Config]
    plan: DataPlan


@dataclass
class AblationResult:
    """Where the two runs and their comparison are."""

    folder: Path
    runs: dict[str, RunResult]
    comparison: ComparisonFile


def _held_out_rows(run_dir: Path) -> list[list[str]]:
    return [list(r.values()) for r in read_split_rows(rf.RunFolder(run_dir))
            if r["split"] in ("val", "test")]


def _headline_values(entry: SplitMetrics | None) -> dict[str, float | None]:
    """Key -> value of a split's stored headline (empty when no evaluator gave one)."""
    headline = entry.headline if entry is not None else None
    return {m.key: m.estimate.value for m in headline.metrics} if headline else {}


def compare(runs: dict[str, RunResult]) -> ComparisonFile:
    """Metrics of the ``with`` and ``without`` runs side by side, per split."""
    with_, without = runs["with"], runs["without"]
    if _held_out_rows(with_.run_dir) != _held_out_rows(without.run_dir):
        raise RunError("the two runs of the ablation have different validation or test splits",
                       hint="the data changed between the two runs; run the ablation again")
    m = with_.metrics
    paired = paired_differences(with_.run_dir, without.run_dir, classes=m.classes,
                                positive=m.positive, threshold=m.threshold)
    rows = []
    for split, results in m.splits.items():
        a = _headline_values(results)
        b = _headline_values(without.metrics.splits.get(split))
        mine = paired.get(split, {})
        degenerate = [k for k, flag in (mine.get("degenerate") or {}).items() if flag]
        for metric in METRICS:
            x, y = a.get(metric), b.get(metric)
            found = (mine.get("metrics") or {}).get(metric) or {}
            interval = found.get("interval")
            rows.append({"split": split, "metric": metric, "with_generator": x,
                         "without_generator": y,
                         "difference": x - y if isinstance(x, float) and isinstance(y, float)
                         else None,
                         "interval_low": interval[0] if interval else None,
                         "interval_high": interval[1] if interval else None,
                         "significant": excludes_zero(interval),
                         "degenerate": ", ".join(f"{k} generator" for k in degenerate)})
    return ComparisonFile.model_validate({
        "ablated": "generator", "same_held_out_split": True,
        "runs": {k: str(v.run_dir.name) for k, v in runs.items()},
        "images": {k: {s: r.images for s, r in v.metrics.splits.items()}
                   for k, v in runs.items()},
        "generator": m.generator.model_dump(mode="json", by_alias=True, exclude_unset=True)
        if m.generator is not None else None,
        "gan_quality": m.gan_quality,
        "metrics": rows})


def comparison_csv(comparison: ComparisonFile) -> str:
    """The metric rows of a comparison as CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["split", "metric", "with_generator",
                                             "without_generator", "difference", "interval_low",
                                             "interval_high", "significant", "degenerate"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(row.model_dump(include=set(writer.fieldnames)) for row in comparison.metrics)
    return out.getvalue()


def plan_ablation(config: Config, host: PluginHost, *, ablate: str) -> AblationPlan:
    """Run the preflight of both runs, then plan their data once; nothing is written.

    :raises ConfigError: for a stage that cannot be ablated, or a config in
        which it is off already.
    :raises BamnetError: the first check of either run that fails.
    """
    if ablate not in ABLATABLE:
        raise ConfigError(f"cannot ablate {ablate!r}: only {', '.join(ABLATABLE)} can be ablated",
                          hint="bamnet ablate CONFIG --stage generator")
    if not config.generator.enabled:
        raise ConfigError(f"{config.origin}: bamnet ablate needs [generator] enabled = "
                          "true (the run with the generator)",
                          hint="add --set generator.enabled=true and the [generator] keys, or "
                               "pick a preset with a generator (bamnet presets list)")
    variants = {"with": config.with_overrides({"run.name": "with-generator"}),
                "without": config.with_overrides({"run.name": "without-generator",
                                                  "generator.enabled": False})}
    for variant in variants.values():
        preflight(variant, host)
    return AblationPlan(variants, plan_run(variants["with"]))  # without: the same split


def run_ablation(config: Config, host: PluginHost, *, ablate: str,
                 output_dir: str | Path = "runs", progress: ProgressCallback = silent,
                 planned: AblationPlan | None = None) -> AblationResult:
    """Run ``config`` with and without the ``ablate`` stage and compare the two.

    :param planned: what :func:`plan_ablation` returned for this config, when the caller
        checked first (the CLI does, before importing Keras); without it, that runs here.
    :raises ConfigError: for a stage that cannot be ablated, or a config in
        which it is off already.
    """
    planned = planned or plan_ablation(config, host, ablate=ablate)
    parent = rf.RunFolder.create(output_dir, f"{config.run.name}-ablate-generator")
    parent.write_text(layout.CONFIG, config.to_toml())
    runs = {key: run_experiment(variant, host, output_dir=parent.path, progress=progress,
                                plan=planned.plan)
            for key, variant in planned.variants.items()}
    comparison = compare(runs)
    parent.write_model(layout.COMPARISON_JSON, comparison)
    parent.write_text(layout.COMPARISON_CSV, comparison_csv(comparison))
    return AblationResult(parent.path, runs, comparison)
