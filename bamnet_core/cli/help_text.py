"""Help text in the usual Unix shape: ``RUN_DIRS...`` and ``--json``, not
``{run_dirs}...`` and ``--json <bool>``.

Typer 0.29 writes a required argument in the usage line as ``{name}``, adds the
argument's Python type (``<list[Path]>``) beside it, and gives every flag,
``--help`` included, a ``<bool>`` type, as if it took a value. :func:`tidy`
gives each parameter of a command (and of its subcommands) a class that writes
them as click always did: arguments in capitals (``RUN_DIR``, ``[NAME]``,
``RUN_DIRS...``), flags with no type. Options that take a value keep theirs
(``--output <path>``).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperOption


class CleanArgument(TyperArgument):
    """An argument written as ``NAME``, ``[NAME]`` or ``NAME...``, with no Python type."""

    def _name(self) -> str:
        return self.metavar or (self.name or "").upper()

    def _usage_display_name(self) -> str:
        name = self._name() if self.required else f"[{self._name()}]"
        return name + ("..." if self.nargs != 1 else "")

    def _rich_display_name(self) -> str:
        return self._name() + ("..." if self.nargs != 1 else "")

    @property
    def display_name_raw(self) -> str:
        """The argument's name as help and errors show it (``RUN_DIRS``)."""
        return self._name()

    def display_type_rich(self, ctx: Any) -> str | None:
        """The choices of an argument that has them; nothing for the others."""
        return super().display_type_rich(ctx) if self.type_descriptor.is_choice else None


class CleanOption(TyperOption):
    """An option whose flags (``--json``, ``--help``) show no type."""

    def display_type_rich(self, ctx: Any) -> str | None:
        """The value's type (``<path>``), or nothing for a flag."""
        return None if self.is_flag or self.count else super().display_type_rich(ctx)


def tidy_params(command: Any, ctx: Any) -> None:
    """Give ``command``'s own parameters, ``--help`` included, the clean classes."""
    help_option = command.get_help_option(ctx)
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if type(param) is TyperArgument:
            param.__class__ = CleanArgument
        elif type(param) is TyperOption:
            param.__class__ = CleanOption


def tidy(command: Any, ctx: Any) -> Any:
    """``command`` and its subcommands with clean help text; returned (None stays None)."""
    if command is not None:
        tidy_params(command, ctx)
        for sub in getattr(command, "commands", {}).values():
            tidy(sub, ctx)
    return command
