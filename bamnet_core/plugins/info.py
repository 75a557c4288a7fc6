"""What is known about each loaded plugin: its hooks, components, commands, or why it broke."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class BrokenPlugin:
    """The record of a plugin that failed to load, and why.

    :param plugin: the plugin's name (its entry-point name).
    :param distribution: the distribution that installed it.
    :param hook: the hook that raised, or ``"import"`` / ``"contract"``.
    :param error: a one-line description of the exception.
    :param traceback: the full traceback, for ``BAMNET_DEBUG=1``.
    """

    plugin: str
    distribution: str
    hook: str
    error: str
    traceback: str = ""

    def message(self) -> str:
        """One line naming the distribution, the hook and the error."""
        where = {
            "import": "failed to import",
            "contract": "breaks the hook contract",
        }.get(self.hook, f"raised in hook {self.hook}")
        return f"plugin {self.plugin!r} (distribution {self.distribution}) {where}: {self.error}"


@dataclass
class PluginInfo:
    """What ``bamnet plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    components: dict[str, list[str]] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form, the shape of ``bamnet plugins --json``."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "hooks": self.hooks,
            "components": self.components,
            "commands": self.commands,
            "status": "broken" if self.error else "ok",
            "error": self.error,
        }


def describe(exc: BaseException) -> str:
    """``"KeyError: 'x'"``: the exception's type and the first line of its message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
