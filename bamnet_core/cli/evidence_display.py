"""What a run or a dataset audit found, in the terminal: the verdict, the shortcut baseline,
label issues, outliers and subgroup metrics, as rich tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..config.schema import ReportSection
from ..report.support import show
from ..report.verdict import Verdict
from ..runs.files import MetricsFile
from ..runs.metrics_file import SubgroupRow, Subgroups
from .output import print_table

_ROWS_SHOWN = 10


def _interval(value: Any) -> str:
    return f"{value[0]:.2f}-{value[1]:.2f}" if value else "-"


def render_baseline(baseline: dict[str, Any] | None, console: Console) -> None:
    """The outside-the-lungs classifier's AUC, interval and strongest properties."""
    if not baseline:
        return
    if baseline.get("status") != "done":
        console.print(f"shortcut baseline skipped: {baseline.get('reason')}")
        return
    verdict = "[bold red]HIGH[/bold red]" if baseline["flagged"] else "[green]low[/green]"
    console.print(f"shortcut baseline (image properties only, {baseline['folds']}-fold CV "
                  f"grouped by patient): ROC-AUC {baseline['auc']:.3f} (95% CI "
                  f"{_interval(baseline['interval'])}), {verdict} at threshold "
                  f"{baseline['threshold']:g}")
    table = Table("property", "AUC alone", "separates", title="strongest properties",
                  title_justify="left")
    for row in baseline["top_properties"]:
        table.add_row(escape(row["property"]), f"{row['auc']:.3f}",
                      f"{row['direction']} in {escape(row['class'])}")
    print_table(console, table)


def _ranked(title: str, rows: list[dict[str, Any]], score: str, extra: str,
            console: Console) -> None:
    table = Table("#", "file", "label", score, extra, title=title, title_justify="left")
    table.columns[1].overflow = "fold"
    for i, row in enumerate(rows[:_ROWS_SHOWN], start=1):
        table.add_row(str(i), escape(Path(row["path"]).name), escape(row["label"]),
                      str(row[score]), escape(str(row.get(extra) or "-")))
    if len(rows) > _ROWS_SHOWN:
        table.caption = f"{len(rows) - _ROWS_SHOWN} more in --json"
    print_table(console, table)


def render_deep(deep: dict[str, Any] | None, console: Console) -> None:
    """Ranked label issues and outliers, and where their thumbnails are."""
    if not deep:
        return
    issues = deep.get("label_issues")
    if issues and issues.get("status") == "done":
        console.print(f"label issues: {issues['issues']} flagged of {issues['images']} "
                      f"(features predict labels with out-of-sample AUC {issues['oof_auc']})")
        if issues["ranked"]:
            _ranked("likely mislabelled", issues["ranked"], "self_confidence", "suggested",
                    console)
    outliers = deep.get("outliers")
    if outliers and outliers.get("status") == "done":
        console.print(f"outliers: {outliers['unusual']} unusual of {outliers['images']} "
                      f"(score = distance to {outliers['neighbours']} nearest same-class "
                      "neighbours over the class median)")
        _ranked("most unusual in their class", outliers["ranked"], "score", "source", console)
    for name, path in (deep.get("thumbnails") or {}).items():
        console.print(f"thumbnails of {name}: {escape(path)}", highlight=False)


def render_subgroups(subgroups: Subgroups | None, console: Console,
                     settings: ReportSection | None = None) -> None:
    """Per-group accuracy and AUC with intervals; groups doing worse are marked with the rate
    that flagged them, and the test is named under the table.

    An AUC on a group with fewer positives or negatives than ``settings`` asks
    for reads "too few (n = k)"; an accuracy of 0 or 1 gets its exact interval.
    """
    if subgroups is None or not subgroups.by:
        return
    settings = settings or ReportSection()
    least = {"min_positives": settings.min_positives, "min_negatives": settings.min_negatives}
    table = Table("by", "group", "images", "patients", "accuracy (95% CI)", "sens.", "spec.",
                  "AUC", "worse?",
                  title=f"subgroups ({subgroups.split} split)", title_justify="left")
    for attribute, groups in subgroups.by.items():
        for g in groups:
            pos = int(g.positives or 0)
            counts = {"pos": pos, "neg": int(g.images or 0) - pos}
            acc = show("accuracy", g.accuracy, g.accuracy_interval, counts, **least)
            sens, spec, auc = (show(k, getattr(g, k), None, counts, **least)
                               for k in ("sensitivity", "specificity", "auc"))
            table.add_row(attribute, escape(g.group), str(g.images), str(g.patients),
                          f"{acc.value} {acc.interval}", sens.value, spec.value, auc.value,
                          _worse_cell(g))
    print_table(console, table)
    if subgroups.test:
        console.print(f"worse: {subgroups.test} ({subgroups.tests} tests)", highlight=False,
                      soft_wrap=True)


def _worse_cell(row: SubgroupRow) -> str:
    flagged = ", ".join("ROC AUC" if c.metric == "auc" else c.metric
                        for c in row.comparisons if c.worse)
    if flagged:
        return f"[red]yes: {flagged}[/red]"
    return "[red]yes[/red]" if row.worse else "no"


def render_run_audit(metrics: MetricsFile, console: Console,
                     settings: ReportSection | None = None) -> None:
    """After a run: the shortcut baseline beside the model, and the subgroup table."""
    sentence = metrics.shortcut_baseline.sentence if metrics.shortcut_baseline else None
    if sentence:
        console.print(sentence[0].upper() + sentence[1:] + ".", highlight=False)
    render_subgroups(metrics.subgroups, console, settings)


STYLE = {"strong": "bold red", "some": "bold yellow", "none": "green", "info": "dim",
         "unchecked": "bold yellow", "too-few": "bold yellow", "unlearned": "bold yellow"}


def render_verdict(verdict: Verdict, console: Console,
                   title: str = "Verdict: can the headline number be trusted?") -> None:
    """Print the verdict table (under ``title``) and its reading."""
    table = Table("evidence", "level", "number [95% interval]", "what it means",
                  title=title, title_justify="left")
    for e in verdict.evidence:
        table.add_row(escape(e.label), f"[{STYLE[e.level]}]{e.level}[/]", escape(e.finding),
                      escape(e.meaning))
    print_table(console, table)
    console.print(f"[{STYLE[verdict.level]}]Verdict: {escape(verdict.reading)}.[/] "
                  f"{escape(verdict.sentence)}", highlight=False, soft_wrap=True)
