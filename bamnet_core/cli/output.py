"""Where CLI output goes: data to stdout, messages and progress to stderr."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

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
