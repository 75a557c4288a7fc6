"""Generate ``docs/cli.md`` from the command tree, so the reference cannot drift.

Run ``python -m bamnet_core.cli.reference > docs/cli.md``; a test compares.
Only built-in commands are listed (third-party plugins are not loaded).
"""

from __future__ import annotations

import inspect
from typing import Any

import click
from typer.main import get_command


def _param_line(param: Any) -> str:
    opts = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
    if getattr(param, "param_type_name", "") == "argument":
        kind = "argument, required" if param.required else "argument"
        return f"- `{param.name.upper()}` ({kind}): {getattr(param, 'help', '') or ''}".rstrip()
    default = param.default
    hidden = default in (None, False, (), []) or callable(default)
    shown = "" if hidden else f" (default: `{default}`)"
    return f"- {opts}: {(getattr(param, 'help', '') or '').strip()}{shown}"


def _walk(command: Any, path: list[str], lines: list[str]) -> None:
    sub = getattr(command, "commands", None)
    if path:
        lines.append(f"## `bamnet {' '.join(path)}`")
        lines.append("")
        lines.append(inspect.cleandoc(command.help or "").split("\n\n")[0])
        lines.append("")
        params = [p for p in command.params if p.name not in ("help",)]
        if params and not sub:
            lines.extend(_param_line(p) for p in params)
            lines.append("")
    if sub:
        for name in sorted(sub):
            _walk(sub[name], [*path, name], lines)


def render_reference() -> str:
    """The CLI reference as Markdown."""
    from ..plugins.manager import load_plugins
    from . import build_app
    from .state import CLIState

    app = build_app(CLIState(host=load_plugins({"BAMNET_LOAD_PLUGINS": ""})))
    lines = [
        "# CLI reference",
        "",
        "Generated from the command definitions by `python -m bamnet_core.cli.reference`;",
        "a test fails when this file is stale. Every command prints one `Error: ...` line",
        "and a hint on failure (exit 1; usage errors exit 2). `BAMNET_DEBUG=1` shows the",
        "traceback. Data goes to stdout, messages and progress to stderr.",
        "",
    ]
    root = get_command(app)
    context = click.Context(root)
    for name in root.list_commands(context):  # the built-ins load lazily: load them all
        root.get_command(context, name)
    _walk(root, [], lines)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render_reference(), end="")
