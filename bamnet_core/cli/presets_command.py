"""``bamnet presets list`` and ``bamnet presets show NAME``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..config.load import load_config, resolve_config_path
from .output import JsonOption, SetOption, UnsetOption, out, print_json, print_table, warn
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
        print_table(out(), table)

    @presets.command("show")
    def show(
        name: Annotated[str, typer.Argument(help="Preset name or TOML path.")],
        resolved: Annotated[bool, typer.Option(
            "--resolved", help="Show every key, defaults filled in, validated.")] = False,
        set_: SetOption = None,
        unset: UnsetOption = None,
    ) -> None:
        """Print a preset's TOML (as written, or fully resolved with --resolved).

        Keys the preset leaves to you (such as data.path) are listed as required
        at the top; give them with --set to see them resolved too.
        """
        registry = state.healthy_host().registry
        if (set_ or unset) and not resolved:
            raise typer.BadParameter("--set and --unset go with --resolved")
        if resolved:
            cfg = load_config(name, registry, overrides=set_ or [], unsets=unset or [],
                              allow_missing=True)
            for notice in cfg.notices:
                warn(notice)
            marks = "".join(f"# required, not set: {key} (--set {key}=VALUE)\n"
                            for key in cfg.missing)
            text = marks + cfg.to_toml()
        else:
            text = resolve_config_path(name, registry).read_text(encoding="utf-8")
        typer.echo(text, nl=not text.endswith("\n"))
