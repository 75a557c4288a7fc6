"""``bamnet data inspect|fetch``: audit a dataset before training; download a public one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..config.overrides import parse_assignment
from ..contract import DatasetDownload, Downloadable
from ..data.fetch import FetchError, fetch_dataset
from ..data.inspection import inspect_dataset
from ..errors import ConfigError
from .deep_inspection import check_audit_options, deep_inspection
from .evidence_display import render_baseline, render_deep
from .output import JsonOption, err, out, print_json, print_table
from .progress import RichProgress
from .state import CLIState

_PAIRS_SHOWN = 10
_FAILURES_SHOWN = 20


def parse_options(items: list[str]) -> dict[str, Any]:
    """``--option key=value`` strings (values parsed as TOML, else kept as text) -> dict."""
    found: dict[str, Any] = {}
    for item in items:
        parts, value = parse_assignment(item, flag="--option", example="source_from=prefix")
        found[".".join(parts)] = value
    return found


def _counts_table(title: str, table: dict[str, dict[str, int]], classes: list[str]) -> Table:
    view = Table(title=title, title_justify="left")
    view.add_column(title.split(" ")[-1])
    for c in classes:
        view.add_column(c, justify="right")
    view.add_column("total", justify="right")
    for key, counts in table.items():
        view.add_row(escape(key), *(str(counts.get(c, 0)) for c in classes),
                     str(sum(counts.values())))
    return view


def render_report(report: dict[str, Any], console: Console) -> None:
    """Print an inspection report as rich tables."""
    classes = sorted(report["by_class"])
    console.print(f"[bold]{escape(report['path'])}[/bold]: source {report['source']!r}, "
                  f"{report['images']:,} images, {report['patients']:,} patients, "
                  f"{len(report['decode_failures'])} undecodable, {report['seconds']} s")
    for note in report.get("source_notes", []):
        console.print(f"  note: {escape(note)}", highlight=False)
    print_table(console, _counts_table("images by source", report["by_source"], classes))
    print_table(console, _counts_table("images by view", report["by_view"], classes))
    split = report.get("split")
    if split:
        by_split = {name: counts for name, counts in split["counts"].items() if counts}
        title = f"preview split (by {split['by']}, seed {split['seed']}) by split"
        print_table(console, _counts_table(title, by_split, classes))
    conf = Table("class", "images", "from single-class sources", "from >=90% sources",
                 title="class vs source", title_justify="left")
    for label, info in report["confounding"]["per_class"].items():
        conf.add_row(label, str(info["images"]), f"{info['single_class_share']:.0%}",
                     f"{info['dominated_share']:.0%}")
    print_table(console, conf)
    c = report["confounding"]
    if c["source_only_accuracy"] is not None:
        console.print(f"source-only accuracy {c['source_only_accuracy']:.1%} (largest class "
                      f"{c['majority_baseline']:.1%})")
    demo = Table("class", "age known", "pediatric", "median age", title="age",
                 title_justify="left")
    for label, info in report["demographics"]["per_class"].items():
        share = info["pediatric_share"]
        demo.add_row(label, f"{info['age_known']} / {info['images']}",
                     "-" if share is None else f"{share:.0%}",
                     "-" if info["median_age"] is None else f"{info['median_age']:g}")
    print_table(console, demo)
    dup = report.get("duplicates")
    if dup is not None:
        console.print(f"duplicates: {dup['exact']} exact, {dup['near']} near (dHash within "
                      f"{dup['near_threshold_bits']}/{dup['hash_bits']} bits); "
                      f"{dup['across_sources']} across sources, {dup['across_splits']} across "
                      f"splits, {dup['different_patients']} with different patient ids")
        if dup["pairs"]:
            pairs = Table("kind", "bits", "a", "b", "sources", "same patient")
            for row in dup["pairs"][:_PAIRS_SHOWN]:
                pairs.add_row(row["kind"], str(row["distance"]), escape(Path(row["a"]).name),
                              escape(Path(row["b"]).name), ", ".join(row["sources"]),
                              "yes" if row["same_patient"] else "no")
            print_table(console, pairs)
    if report["decode_failures"]:
        fails = Table("kind", "file", "reason", title="decode failures", title_justify="left")
        fails.columns[1].overflow = "fold"
        base = Path(report["path"])
        base = base if base.is_dir() else base.parent
        for row in report["decode_failures"][:_FAILURES_SHOWN]:
            shown = Path(row["path"])
            shown = shown.relative_to(base) if shown.is_relative_to(base) else shown
            fails.add_row(row["kind"], escape(str(shown)), escape(row["reason"]))
        if len(report["decode_failures"]) > _FAILURES_SHOWN:
            fails.caption = f"{len(report['decode_failures']) - _FAILURES_SHOWN} more in --json"
        print_table(console, fails)
    render_baseline(report.get("shortcut_baseline"), console)
    render_deep(report.get("deep"), console)
    if report["warnings"]:
        console.print("[bold yellow]Findings[/bold yellow]")
        for line in report["warnings"]:
            console.print(f"  - {escape(line)}", highlight=False)
    else:
        console.print("[green]No problems found.[/green]")


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``data`` command group (inspect, fetch) to ``app``."""
    data = typer.Typer(name="data", help="Inspect datasets and fetch public ones.",
                       no_args_is_help=True)
    app.add_typer(data, name="data")

    @data.command("inspect")
    def inspect(
        path: Annotated[Path, typer.Argument(help="A dataset folder or a manifest CSV.")],
        source: Annotated[str | None, typer.Option(
            "--source", help="Read with this source instead of detecting one.")] = None,
        option: Annotated[list[str] | None, typer.Option(
            "--option", help="A source option, key=value (repeatable).")] = None,
        by: Annotated[str, typer.Option(help="Preview split: patient or image.")] = "patient",
        val: Annotated[float, typer.Option(help="Preview split: validation share.")] = 0.2,
        test: Annotated[float, typer.Option(help="Preview split: test share.")] = 0.0,
        seed: Annotated[int, typer.Option(help="Preview split: seed.")] = 0,
        near: Annotated[int, typer.Option(
            help="Near-duplicate threshold in dHash bits (of 256); -1 turns it off.")] = 12,
        shortcut: Annotated[float, typer.Option(
            help="Flag the outside-the-lungs baseline at this ROC-AUC; 0 skips it.")] = 0.75,
        deep: Annotated[bool, typer.Option(
            "--deep", help="Also rank label issues and outliers (frozen-backbone features).")
        ] = False,
        features: Annotated[str, typer.Option(
            help="--deep: backbone whose frozen random-weight features are used.")
        ] = "small-cnn",
        feature_size: Annotated[int, typer.Option(help="--deep: feature input size.")] = 64,
        thumbnails: Annotated[Path | None, typer.Option(
            help="--deep: write PNG contact sheets of the ranked images into this folder.")
        ] = None,
        json_: JsonOption = False,
    ) -> None:
        """Count, check and audit a dataset: duplicates, leakage, confounding, shortcuts."""
        if by not in ("patient", "image"):
            raise ConfigError(f"--by must be 'patient' or 'image', got {by!r}")
        check_audit_options(shortcut, feature_size, deep, thumbnails)
        host = state.healthy_host()
        deep_fn = deep_inspection(host.registry, features, feature_size, seed, thumbnails) \
            if deep else None
        with RichProgress(enabled=not json_) as progress:
            report = inspect_dataset(path, host.registry, source=source,
                                     options=parse_options(option or []), split_by=by,
                                     val=val, test=test, seed=seed, near_threshold=near,
                                     shortcut_threshold=shortcut or None, deep=deep_fn,
                                     progress=progress)
        if json_:
            print_json(report)
        else:
            render_report(report, out())

    @data.command("fetch")
    def fetch(
        name: Annotated[str, typer.Argument(help="A dataset source, e.g. cohen-covid.")],
        dest: Annotated[Path, typer.Option("--dest", help="Folder to unpack into.")],
        url: Annotated[str | None, typer.Option(help="Download from this URL instead.")] = None,
        sha256: Annotated[str | None, typer.Option(
            help="Expected SHA-256 of the archive.")] = None,
        timeout: Annotated[float, typer.Option(help="Network timeout in seconds.")] = 10.0,
        json_: JsonOption = False,
    ) -> None:
        """Download a public dataset (resumable, checksum-verified, atomic)."""
        target = state.healthy_host().registry.get("dataset_source", name).target
        spec: DatasetDownload | None = target.download if isinstance(target, Downloadable) \
            else None
        if spec is None:
            if url is None:
                raise FetchError(f"dataset source {name!r} has nothing to download",
                                 hint="pass --url to fetch an archive for it")
            spec = DatasetDownload(name=name, url=url, sha256=None, folder=name)
        with RichProgress(enabled=not json_) as progress:
            result = fetch_dataset(spec, dest, url=url, sha256=sha256, timeout=timeout,
                                   progress=progress)
        if json_:
            print_json({"source": name, **result})
            return
        console = err()
        if result["already"]:
            console.print(f"{name}: already present at {result['path']}", highlight=False)
        elif result["verified"]:
            console.print(f"{name}: SHA-256 verified ({result['sha256']})", highlight=False)
        else:
            console.print(f"{name}: no pinned checksum; downloaded archive SHA-256 is "
                          f"{result['sha256']}", highlight=False)
        out().print(f'[data]\nsource = "{name}"\nroot = "{result["path"]}"', highlight=False,
                    markup=False)
