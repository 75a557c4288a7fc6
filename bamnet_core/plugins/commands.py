"""The names of a Typer app's commands, so plugins cannot take one that is taken."""

from __future__ import annotations

from typing import Any

from ..errors import PluginError
from .faults import contain


class CommandClash(PluginError):
    """A plugin added a command whose name bamnet or another plugin already uses."""


def _name(info: Any) -> str:
    if getattr(info, "name", None):
        return str(info.name)
    callback = getattr(info, "callback", None)
    if callback is not None:  # Typer derives the name from the function
        return callback.__name__.lower().replace("_", "-")
    instance = getattr(info, "typer_instance", None)
    return str(getattr(getattr(instance, "info", None), "name", "") or "")


def added_commands(app: Any) -> tuple[int, int]:
    """A mark of how many commands and groups ``app`` has now."""
    return len(app.registered_commands), len(app.registered_groups)


def command_names(app: Any, since: tuple[int, int] = (0, 0)) -> list[str]:
    """Names of the commands and groups added to ``app`` after the mark ``since``."""
    commands = app.registered_commands[since[0]:]
    groups = app.registered_groups[since[1]:]
    return [_name(info) for info in [*commands, *groups]]


def remove_commands(app: Any, since: tuple[int, int]) -> None:
    """Withdraw every command and group added to ``app`` after the mark ``since``."""
    del app.registered_commands[since[0]:]
    del app.registered_groups[since[1]:]


def _cli_signal(exc: Exception) -> BaseException | None:
    """Exit, Abort, BadParameter: the command line's own signals pass the fault boundary."""
    return exc if type(exc).__module__.startswith(("click", "typer")) else None


def walk_commands(app: Any, since: tuple[int, int] = (0, 0)) -> list[Any]:
    """Every command added to ``app`` after the mark ``since``, its groups' commands included."""
    infos = list(app.registered_commands[since[0]:])
    pending = [g.typer_instance for g in app.registered_groups[since[1]:]]
    while pending:
        group = pending.pop()
        infos.extend(group.registered_commands)
        pending.extend(g.typer_instance for g in group.registered_groups)
    return infos


def guard_commands(app: Any, since: tuple[int, int], distribution: str) -> None:
    """Put every command added after ``since`` (groups' commands too) in the fault boundary."""
    for info in walk_commands(app, since):
        if info.callback is not None:
            info.callback = contain(info.callback, f"command {_name(info)!r}", distribution,
                                    translate=_cli_signal)
