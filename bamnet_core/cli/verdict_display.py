"""The verdict in the terminal: one row per line of evidence, the overall reading last."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..report.verdict import Verdict

STYLE = {"strong": "bold red", "some": "bold yellow", "none": "green", "info": "dim",
         "unchecked": "bold yellow"}


def render_verdict(verdict: Verdict, console: Console) -> None:
    """Print the verdict table and its reading."""
    table = Table("evidence", "level", "number [95% interval]", "what it means",
                  title="Verdict: can the headline number be trusted?", title_justify="left")
    for e in verdict.evidence:
        table.add_row(escape(e.label), f"[{STYLE[e.level]}]{e.level}[/]", escape(e.finding),
                      escape(e.meaning))
    console.print(table)
    console.print(f"[{STYLE[verdict.level]}]Verdict: {escape(verdict.reading)}.[/] "
                  f"{escape(verdict.sentence)}", highlight=False, soft_wrap=True)
