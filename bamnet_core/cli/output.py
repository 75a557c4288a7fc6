"""Where CLI output goes: data to stdout, messages and progress to stderr."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._util.text import one_line

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", help="Override a key: section.key=value, or a whole section: "
                  "section={...} (repeatable).")]
UnsetOption = Annotated[list[str] | None, typer.Option(
    "--unset", help="Remove a key: section.key (repeatable; before --set).")]


def out() -> Console:
    """Console for data (stdout)."""
    return Console(soft_wrap=True)


def err() -> Console:
    """Console for messages and progress (stderr)."""
    return Console(stderr=True, soft_wrap=True)


def print_table(console: Console, table: Table) -> None:
    """Print ``table`` whole: no cell is cut short with an ellipsis.

    On a terminal, a long cell folds onto more lines within the terminal's width.
    Piped or redirected there is no width to fit (rich would assume 80 columns
    and cut ``bamnet_paper.sources`` to ``bamnet_paper.sou…``), so the table is
    printed as wide as its longest cells need.
    """
    for column in table.columns:
        column.overflow = "fold"
    if not console.is_terminal:  # print caps a width at the console's: a wider console
        unbounded = console.options.update_width(1_000_000)  # a measure is capped at its width
        width = max(console.width, console.measure(table, options=unbounded).maximum)
        console = Console(file=console.file, width=width, soft_wrap=True)
    console.print(table)


def print_json(obj: Any) -> None:
    """Write ``obj`` as JSON to stdout (no colour, pipe-safe)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """One ``Warning: ...`` line on stderr (``message`` as it is: no markup, breaks escaped)."""
    err().print(f"[yellow]Warning:[/yellow] {escape(one_line(message))}", highlight=False,
                markup=True)


def notice(message: str) -> None:
    """One ``Notice: ...`` line on stderr (``message`` as it is: no markup, breaks escaped)."""
    err().print(f"[cyan]Notice:[/cyan] {escape(one_line(message))}", highlight=False,
                markup=True)
