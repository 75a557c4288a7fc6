"""Today's spellings of the run modes, ``bamnet run --resume|--ablate|--loso``, kept working.

The modes are commands now (``bamnet resume``, ``bamnet ablate``,
``bamnet loso``). The root group routes an old spelling to its command with
one ``Notice:`` line naming the new one, before anything is parsed, so the
old flags appear in no ``--help`` and ``bamnet run`` has no options for them.
The command then parses what is left: an option that makes no sense for it
(``--until`` on an ablation, ``--data`` on a resume, a second ``CONFIG``) is a
usage error there, as is a second mode flag here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup

from .output import notice

#: Old flag -> (the command it is now, whether it takes a value).
MODE_FLAGS: dict[str, tuple[str, bool]] = {
    "--resume": ("resume", True),
    "--ablate": ("ablate", True),
    "--loso": ("loso", False),
}
NOTICES = {
    "resume": "'bamnet run --resume RUN_DIR' is now 'bamnet resume RUN_DIR'",
    "ablate": "'bamnet run CONFIG --ablate generator' is now 'bamnet ablate CONFIG'",
    "loso": "'bamnet run CONFIG --loso' is now 'bamnet loso CONFIG'",
}


class OldSpellingError(ValueError):
    """An old spelling that names no single mode (the root group makes it a usage error)."""


def value_options(command: Any) -> set[str]:
    """The spellings of ``command``'s options that take a value (``--set``, ``-o``...)."""
    return {opt for param in command.params
            if param.param_type_name == "option" and not param.is_flag and not param.count
            for opt in param.opts}


def route(args: list[str], takes_value: set[str]) -> tuple[str, list[str]] | None:
    """The command and arguments that ``bamnet run ARGS`` in an old spelling stands for.

    :param takes_value: ``bamnet run``'s options whose next argument is their value.
    :returns: None when ``args`` use no old flag (a plain run).
    :raises OldSpellingError: for two mode flags, a mode flag without its value, or
        ``--from`` (a flag of ``--resume``) without ``--resume``.
    """
    rest: list[str] = []
    found: list[tuple[str, str | None]] = []
    tokens: Iterator[str] = iter(args)
    for token in tokens:
        if token == "--":  # everything after it is an argument
            rest += [token, *tokens]
            break
        flag, has_inline, inline = token.partition("=")
        if flag not in MODE_FLAGS:
            rest.append(token)
            value = next(tokens, None) if token in takes_value else None
            if value is not None:  # the option's value, whatever it looks like
                rest.append(value)
            continue
        mode, needs_value = MODE_FLAGS[flag]
        value = (inline if has_inline else next(tokens, None)) if needs_value else None
        if needs_value and value is None:
            raise OldSpellingError(f"Option '{flag}' requires an argument.")
        if has_inline and not needs_value:
            raise OldSpellingError(f"Option '{flag}' does not take a value.")
        found.append((mode, value))
    if not found:
        if any(token.partition("=")[0] == "--from" for token in rest):
            raise OldSpellingError("--from redoes the last stages of a run folder: "
                                   "bamnet resume RUN_DIR --from STAGE")
        return None
    if len(found) > 1:
        raise OldSpellingError(
            "--resume, --ablate and --loso are the commands 'bamnet resume', 'bamnet ablate' "
            "and 'bamnet loso' now: use one of them")
    ((mode, value),) = found
    if mode == "resume":
        return mode, [str(value), *rest]
    if mode == "ablate":
        return mode, ["--stage", str(value), *rest]
    return mode, rest


class LegacyRunGroup(TyperGroup):
    """The root ``bamnet`` group: routes ``bamnet run`` in an old spelling to its command."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[Any, Any, list[str]]:
        """Resolve the command as usual; an old spelling of ``run`` becomes its mode's command."""
        name, command, rest = super().resolve_command(ctx, args)
        if name != "run" or command is None or ctx.resilient_parsing:
            return name, command, rest
        try:
            routed = route(rest, value_options(command))
        except OldSpellingError as exc:  # a usage error, shown with run's usage line
            typer.Context(command, parent=ctx, info_name=name).fail(str(exc))
        if routed is None:
            return name, command, rest
        mode, mode_args = routed
        notice(NOTICES[mode])
        return mode, self.get_command(ctx, mode), mode_args
