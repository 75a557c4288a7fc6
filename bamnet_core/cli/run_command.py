"""``bamnet run CONFIG`` starts a run; ``bamnet resume RUN_DIR`` continues one.

Both write and print the same things: a run folder, its headline metrics and
audit, or where a run stopped (``--until``) and how to continue it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..config.schema import ReportSection
from ..experiment.pipeline import RERUNNABLE, STOPPABLE
from ..experiment.results import RunResult
from ..report.headline import threshold_sentence
from ..report.run_summary import SUMMARY_METRICS, split_summary
from ..runs.files import MetricsFile
from .evidence_display import render_run_audit, render_verdict
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

UntilOption = Annotated[str | None, typer.Option(
    "--until", help=f"Stop after this stage ({', '.join(STOPPABLE)}); `bamnet resume` "
                    "continues.")]
FromOption = Annotated[str | None, typer.Option(
    "--from", help=f"Redo the run from this stage on ({', '.join(RERUNNABLE)}), even when it "
                   "is complete; the stages before it are kept.")]
RunDirArgument = Annotated[Path, typer.Argument(help="A run folder made by `bamnet run`.")]


def metrics_json(metrics: MetricsFile) -> dict[str, Any]:
    """The metrics as ``--json`` prints them: what evaluation measured (``{}`` when the run
    stopped before it), without the file's ``schema_version``."""
    return metrics.model_dump(mode="json", by_alias=True, exclude_unset=True,
                              exclude={"schema_version"})


def summary_table(metrics: MetricsFile, settings: ReportSection | None = None) -> Table:
    """A table of the headline metrics per split, under the report's support rule."""
    leaky = metrics.split is not None and metrics.split.leaky
    table = Table("split", "images", *[column for _, column in SUMMARY_METRICS],
                  title="LEAKY image-level split: optimistic" if leaky else None)
    short = []
    for split, row in split_summary(metrics, settings).items():
        cells = [row["metrics"][key]["shown"] if key in row["metrics"] else "-"
                 for key, _ in SUMMARY_METRICS]
        label = f"{split} (headline)" if row["headline"] else split
        table.add_row(f"{label} LEAKY" if leaky else label, str(row["images"]), *cells)
        if row["too_few"]:
            short.append(f"{row['too_few']}: too few images to conclude")
    threshold = threshold_sentence(metrics)
    caption = [f"decision threshold {threshold}"] if threshold else []
    if short or caption:
        table.caption = "; ".join([*caption, *short])
    return table


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``run`` and ``resume`` commands to ``app``."""

    @app.command("run")
    def run(
        config: ConfigArgument,
        set_: SetOption = None,
        unset: UnsetOption = None,
        seed: SeedOption = None,
        data: DataOption = None,
        output_dir: OutputDirOption = RUNS,
        until: UntilOption = None,
        json_: JsonOption = False,
    ) -> None:
        """Train and evaluate a model as a preset or config file says."""
        from ..experiment.preflight import plan_run, preflight
        from ..experiment.runner import run_experiment

        host = state.healthy_host()
        cfg = load_run_config(host, config, set_=set_, unset=unset, seed=seed, data=data)
        preflight(cfg, host, until=until)  # refuses a run that cannot succeed, before any
        plan = plan_run(cfg)  # data is listed and before Keras loads
        preload_keras()
        with RichProgress(enabled=not json_) as progress:
            result = run_experiment(cfg, host, output_dir=output_dir, progress=progress,
                                    until=until, plan=plan)
        render_run(result, json_=json_, until=until)

    @app.command("resume")
    def resume(
        run_dir: RunDirArgument,
        start: FromOption = None,
        json_: JsonOption = False,
    ) -> None:
        """Continue a stopped, killed or failed run with its own config, or redo its last stages."""
        from ..experiment.runner import check_resumable_folder, resume_experiment

        host = state.healthy_host()
        checked = check_resumable_folder(run_dir, host, start=start)  # before Keras loads
        preload_keras()
        with RichProgress(enabled=not json_) as progress:
            result = resume_experiment(checked, host, progress=progress)
        render_run(result, json_=json_)


def render_run(result: RunResult, *, json_: bool, until: str | None = None) -> None:
    """Print a run's outcome: JSON on stdout, or its tables, files and folder.

    :param until: the stage the run stopped after; the folder is then printed
        with the command that continues it.
    """
    from ..report import read_run, verdict_of

    if result.worker is not None:
        render_worker(result, json_=json_)
        return
    verdict = result.verdict
    if verdict is None and until is None and result.metrics.splits:  # the report was kept
        verdict = verdict_of(read_run(result.run_dir))  # or failed: computed here
    if json_:
        print_json({"run_dir": str(result.run_dir), "files": result.files,
                    "verdict": verdict.to_dict() if verdict else None,
                    "summary": split_summary(result.metrics, result.report_settings),
                    "metrics": metrics_json(result.metrics), "warnings": result.warnings})
        return
    for message in result.warnings:
        warn(message)
    console = out()
    if until is not None:
        console.print(f"Stopped after stage {until}. Continue with: bamnet resume "
                      f"{result.run_dir}", highlight=False, soft_wrap=True)
        return
    if verdict is not None:
        render_verdict(verdict, console)
    print_table(console, summary_table(result.metrics, result.report_settings))
    if verdict is not None and verdict.level == "too-few":  # no number without its support
        console.print("The lung-blind baseline and the subgroups are not shown: too few "
                      "images to conclude (they are in the report, marked).", highlight=False)
    else:
        render_run_audit(result.metrics, console, result.report_settings)
    if result.metrics.split is not None and result.metrics.split.leaky:
        warn("this run used an image-level split: its metrics are optimistic")
    for label, key in (("Report", "report"), ("Model", "model")):
        if key in result.files:
            console.print(f"{label}: {result.files[key]}", highlight=False, soft_wrap=True)
    console.print(f"Run folder: {result.run_dir}", highlight=False, soft_wrap=True)


def render_worker(result: RunResult, *, json_: bool) -> None:
    """Print what a worker other than the chief did: its share of training, no folder."""
    if json_:
        print_json({"run_dir": None, "worker": result.worker, "files": {}, "verdict": None,
                    "metrics": {}, "warnings": []})
        return
    out().print(f"{result.worker[0].upper()}{result.worker[1:]} finished its share of "
                "training. The chief (worker 0) writes the run folder, model and report.",
                highlight=False, soft_wrap=True)
