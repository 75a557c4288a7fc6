"""The plugin contract: every hook a bamnet plugin may implement.

Registry hooks, one per component kind in :data:`.kinds.KINDS`, receive a
``register`` callback. The core, not the plugin, owns validation, refuses
duplicate names and records which plugin supplied each component. Hooks are
called with keyword arguments only, so an implementation may accept fewer
arguments than its spec.

``docs/plugins/hooks.md`` documents each hook with its exact signature; a
test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pluggy

from .kinds import KINDS, ComponentKind

PROJECT = "bamnet"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Register(Protocol):
    """The callback a registry hook receives."""

    def __call__(self, name: str, target: Any, description: str | None = None) -> None:
        """Register ``target`` under ``name``; ``description`` defaults to its docstring."""
        ...


def _registry_hookspec(kind: ComponentKind) -> Callable[..., None]:
    """The hook spec for one component kind, named and documented from the table."""

    def hook(register: Register) -> None:
        """Replaced below by the kind's own documentation."""

    hook.__name__ = hook.__qualname__ = kind.hook
    hook.__doc__ = kind.hook_doc()
    hook.__module__ = __name__
    return hookspec(hook)


for _kind in KINDS:
    globals()[_kind.hook] = _registry_hookspec(_kind)
del _kind


@hookspec
def register_commands(app: Any) -> None:
    """Add commands to the ``bamnet`` command line.

    :param app: the root :class:`typer.Typer` application. Add commands with
        ``@app.command()`` or sub-applications with ``app.add_typer(...)``. A
        command whose name is already taken (by bamnet or another plugin) is
        refused, and the plugin is reported as broken.
    """


REGISTRY_HOOKS: dict[str, str] = {k.hook: k.name for k in KINDS}
