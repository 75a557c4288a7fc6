"""``bamnet presets list`` and ``bamnet presets show NAME``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..config import load_config, resolve_config_path
from .output import JsonOption, out, print_json
from .state import CLIState


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``presets`` command group to ``app``."""
    presets = typer.Typer(help="Named run configurations.", no_args_is_help=True)
    app.add_typer(presets, name="presets")

    @presets.command("list")
    def list_(json_: JsonOption = False) -> None:
        """List presets with the plugin that registered each."""
        regs = state.healthy_host().registry.all("preset")
        rows = [{"name": r.name, "plugin": r.plugin, "description": r.description,
                 "path": str(r.target)} for r in regs]
        if json_:
            print_json(rows)
            return
        table = Table("name", "description", "plugin")
        for row in rows:
            table.add_row(row["name"], row["description"], row["plugin"])
        out().print(table)

    @presets.command("show")
    def show(
        name: Annotated[str, typer.Argument(help="Preset name or TOML path.")],
        resolved: Annotated[bool, typer.Option(
            "--resolved", help="Show every key, defaults filled in, validated.")] = False,
    ) -> None:
        """Print a preset's TOML (as written, or fully resolved)."""
        registry = state.healthy_host().registry
        if resolved:
            text = load_config(name, registry).to_toml()
        else:
            text = resolve_config_path(name, registry).read_text(encoding="utf-8")
        typer.echo(text, nl=not text.endswith("\n"))
