"""``bamnet plugins``: list installed plugins, their hooks and components."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .output import JsonOption, out, print_json
from .state import CLIState


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``plugins`` command to ``app``."""

    @app.command("plugins")
    def plugins(
        all_: Annotated[bool, typer.Option("--all", help="Include the built-in plugins.")] = False,
        json_: JsonOption = False,
    ) -> None:
        """List installed plugins: name, version, hooks, components, status."""
        infos = state.host.infos(include_builtin=all_)
        if json_:
            print_json([i.to_dict() for i in infos])
            return
        if not infos:
            out().print("No third-party plugins installed. `bamnet plugins --all` shows the "
                        "built-ins; `bamnet install NAME` adds one.")
            return
        table = Table("name", "version", "hooks", "components", "status")
        for info in infos:
            components = "\n".join(f"{k}: {', '.join(v)}" for k, v in info.components.items())
            status = "[red]broken[/red]\n" + info.error if info.error else "[green]ok[/green]"
            table.add_row(info.name, info.version, "\n".join(info.hooks), components, status)
        out().print(table)
