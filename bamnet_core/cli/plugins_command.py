"""``bamnet plugins``: list installed plugins, their hooks and components."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..plugins.manager import LOAD_ENV
from ..plugins.template import KINDS as TEMPLATE_KINDS
from ..plugins.template import write_plugin_template
from .output import JsonOption, out, print_json, print_table, warn
from .state import CLIState

_KINDS = ", ".join(TEMPLATE_KINDS[:-1]) + " or " + TEMPLATE_KINDS[-1]


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``plugins`` command group (list; ``new``) to ``app``."""
    group = typer.Typer(name="plugins", invoke_without_command=True)
    app.add_typer(group, name="plugins")

    @group.callback()
    def plugins(
        ctx: typer.Context,
        all_: Annotated[bool, typer.Option("--all", help="Include the built-in plugins.")] = False,
        json_: JsonOption = False,
    ) -> None:
        """List installed plugins: name, version, hooks, components, status."""
        if ctx.invoked_subcommand is not None:
            return
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
            print_table(out(), table)
        if hidden:
            warn(f"{hidden} installed plugin{'s' * (hidden > 1)} not loaded: "
                 f"{LOAD_ENV} is set to {os.environ.get(LOAD_ENV, '')!r}")

    @group.command("new")
    def new(
        name: Annotated[str, typer.Argument(help="The plugin's name, e.g. my-net.")],
        kind: Annotated[str, typer.Option(
            "--kind", help=f"The component to start with: {_KINDS}.")]
            = "backbone",
        dest: Annotated[Path, typer.Option("--dest", help="Folder to write bamnet-NAME in.")]
            = Path("."),
        json_: JsonOption = False,
    ) -> None:
        """Write a ready plugin distribution (bamnet-NAME) to start from."""
        files = write_plugin_template(name, kind=kind, dest=dest)
        root = files[0].parent
        if json_:
            print_json({"path": str(root), "files": [str(f) for f in files]})
            return
        out().print(f"Wrote {root}:", highlight=False, markup=False)
        for path in files:
            out().print(f"  {path.relative_to(root)}", highlight=False, markup=False)
        out().print(f"Next: cd {root} && pip install -e '.[test]' && pytest && "
                    f"bamnet run {name}", highlight=False, soft_wrap=True, markup=False)
