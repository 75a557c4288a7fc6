"""``bamnet run PRESET|FILE.toml``: train and evaluate, writing a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..config.load import load_config
from ..data.sources import detect_source
from .ablation_output import run_ablation_command
from .audit_display import render_run_audit
from .loso_output import run_loso_command
from .noise import preload_keras
from .output import JsonOption, SetOption, UnsetOption, out, print_json, warn
from .progress_display import RichProgress
from .state import CLIState

_SUMMARY = ("accuracy", "sensitivity", "specificity", "roc_auc")


def summary_table(metrics: dict[str, Any]) -> Table:
    """A table of the headline metrics per split."""
    leaky = metrics.get("split", {}).get("leaky")
    headline = metrics.get("headline", {}).get("split")
    table = Table("split", "images", *_SUMMARY,
                  title="LEAKY image-level split: optimistic" if leaky else None)
    for split, results in metrics["splits"].items():
        cls = results.get("classification", {})
        cells = [f"{cls[k]:.3f}" if isinstance(cls.get(k), float) else "-" for k in _SUMMARY]
        label = f"{split} (headline)" if split == headline else split
        table.add_row(f"{label} LEAKY" if leaky else label, str(results["images"]), *cells)
    return table


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``run`` command to ``app``."""

    @app.command("run")
    def run(
        config: Annotated[str | None, typer.Argument(
            help="Preset name or path of a TOML config (omit with --resume).")] = None,
        set_: SetOption = None,
        unset: UnsetOption = None,
        output_dir: Annotated[Path, typer.Option(
            "--output-dir", "-o", help="Folder that receives the run folder.")] = Path("runs"),
        seed: Annotated[int | None, typer.Option("--seed", help="Replace run.seed.")] = None,
        data: Annotated[Path | None, typer.Option(
            "--data", help="Read this data instead of the config's sources: a manifest CSV, "
                           "an image folder or a dataset's folder (its source is detected).")]
            = None,
        resume: Annotated[Path | None, typer.Option(
            "--resume", help="Continue the killed run in this run folder, with its config.")]
            = None,
        ablate: Annotated[str | None, typer.Option(
            "--ablate", help="Run twice, with and without this stage ('generator'), same seed "
                             "and split; writes both run folders and a comparison.")] = None,
        loso: Annotated[bool, typer.Option(
            "--loso", help="Leave one source out: one run per source, trained without it and "
                           "tested on it; writes the run folders and loso.csv.")] = False,
        until: Annotated[str | None, typer.Option(
            "--until", help="Stop after this stage (generator, audit, train, evaluate, "
                            "report, export); --resume continues.")] = None,
        start: Annotated[str | None, typer.Option(
            "--from", help="With --resume: redo the run from this stage on (evaluate, report "
                           "or export), even when it is complete.")] = None,
        json_: JsonOption = False,
    ) -> None:
        """Train and evaluate a model as a preset or config file says."""
        if ablate is not None and (resume is not None or ablate != "generator"):
            raise typer.BadParameter("--ablate takes 'generator' and starts new runs "
                                     "(not with --resume)")
        if loso and (resume is not None or ablate is not None or until is not None):
            raise typer.BadParameter("--loso starts new runs (not with --resume, --ablate or "
                                     "--until)")
        if (config is None) == (resume is None):
            raise typer.BadParameter("give a preset or config file, or --resume RUN_DIR (not both)")
        if resume is not None and (set_ or unset or seed is not None or data is not None):
            raise typer.BadParameter("--resume uses the run folder's config; drop "
                                     "--set/--unset/--seed/--data")
        if start is not None and resume is None:
            raise typer.BadParameter("--from redoes stages of a run folder: give --resume RUN_DIR")
        if until is not None and resume is not None:
            raise typer.BadParameter("--until starts a new run; --resume continues to the end")
        if until is not None and ablate is not None:
            raise typer.BadParameter("--ablate compares two finished runs; drop --until")
        host = state.healthy_host()
        cfg = None
        if config is not None:  # checked before anything heavy is imported
            cfg = load_config(config, host.registry, overrides=set_ or [], unsets=unset or [],
                              seed=seed, data=None if data is None else
                              detect_source(data.expanduser().absolute(), host.registry))
            for notice in cfg.notices:
                warn(notice)
        if loso and cfg is not None:
            run_loso_command(cfg, host, output_dir=output_dir, json_=json_)
            return
        if ablate is not None and cfg is not None:
            run_ablation_command(cfg, host, ablate=ablate, output_dir=output_dir, json_=json_)
            return
        from ..experiment.pipeline import check_until
        from ..experiment.preflight import preflight
        from ..experiment.runner import resume_experiment, run_experiment

        if cfg is not None:
            check_until(cfg, until)
            plan = preflight(cfg)  # refuses a run that cannot succeed before Keras loads
        preload_keras()
        with RichProgress(enabled=not json_) as progress:
            if cfg is None:
                result = resume_experiment(resume, host, progress=progress, start=start)
            else:
                result = run_experiment(cfg, host, output_dir=output_dir, progress=progress,
                                        until=until, plan=plan)
        if json_:
            print_json({"run_dir": str(result.run_dir), "files": result.files,
                        "metrics": result.metrics, "warnings": result.warnings})
            return
        for message in result.warnings:
            warn(message)
        console = out()
        if until is not None:
            console.print(f"Stopped after stage {until}. Continue with: bamnet run --resume "
                          f"{result.run_dir}", highlight=False, soft_wrap=True)
            return
        console.print(summary_table(result.metrics))
        render_run_audit(result.metrics, console)
        if result.metrics.get("split", {}).get("leaky"):
            warn("this run used an image-level split: its metrics are optimistic")
        for label, key in (("Report", "report"), ("Model", "model")):
            if key in result.files:
                console.print(f"{label}: {result.files[key]}", highlight=False, soft_wrap=True)
        console.print(f"Run folder: {result.run_dir}", highlight=False, soft_wrap=True)
