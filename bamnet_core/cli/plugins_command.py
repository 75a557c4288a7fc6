"""``bamnet plugins``: list installed plugins, their hooks and components."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..plugins.manager import LOAD_ENV
from .output import JsonOption, out, print_json, warn
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
        hidden = state.host.hidden
        if json_:
            print_json([i.to_dict() for i in infos])
        elif not infos:
            out().print("No third-party plugins loaded. `bamnet plugins --all` shows the "
                        "built-ins; `bamnet install NAME` adds one.")
        else:
            table = Table("name", "version", "hooks", "components", "status")
            for info in infos:
                components = "\n".join(f"{k}: {', '.join(v)}"
                                       for k, v in info.components.items())
                if info.commands:
                    components += ("\n" if components else "") + \
                        f"commands: {', '.join(info.commands)}"
                status = "[red]broken[/red]\n" + escape(info.error) if info.error \
                    else "[green]ok[/green]"
                table.add_row(info.name, info.version, "\n".join(info.hooks), components,
                              status)
            out().print(table)
        if hidden:
            warn(f"{hidden} installed plugin{'s' * (hidden > 1)} not loaded: "
                 f"{LOAD_ENV} is set to {os.environ.get(LOAD_ENV, '')!r}")
