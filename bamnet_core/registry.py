"""Name -> component lookup, with the record of which plugin gave what.

Plugins register factories through the ``register`` callbacks handed to their
hooks. The registry refuses a second component of the same kind and name,
naming both plugins: runs must be reproducible, so nothing is silently
renamed or shadowed.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DuplicateComponentError, PluginError, UnknownComponentError

KINDS = ("dataset_source", "generator", "backbone", "evaluator", "preset")
KIND_LABELS = {
    "dataset_source": "dataset source",
    "generator": "generator",
    "backbone": "backbone",
    "evaluator": "evaluator",
    "preset": "preset",
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class Registration:
    """One registered component.

    :param kind: one of :data:`KINDS`.
    :param name: the name configs use to pick it.
    :param target: the factory (a callable), or for presets the TOML path.
    :param plugin: the plugin that registered it.
    :param description: one line for listings; defaults to the factory's
        docstring summary.
    """

    kind: str
    name: str
    target: Any
    plugin: str
    description: str = ""


@dataclass(frozen=True)
class Option:
    """One keyword a component factory accepts."""

    name: str
    annotation: Any
    default: Any
    required: bool


def factory_options(factory: Callable[..., Any]) -> dict[str, Option]:
    """Return the keyword options a component factory accepts, from its signature.

    A factory's keyword parameters are its config schema: their names are the
    accepted keys, their annotations the types, their defaults the defaults.
    """
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        hints = inspect.get_annotations(target, eval_str=True)
    except Exception:  # unresolvable annotations: fall back to the raw strings
        hints = getattr(target, "__annotations__", {})
    options: dict[str, Option] = {}
    for param in inspect.signature(factory).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            continue
        required = param.default is inspect.Parameter.empty
        options[param.name] = Option(
            name=param.name,
            annotation=hints.get(param.name, Any),
            default=None if required else param.default,
            required=required,
        )
    return options


def _summary(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Registry:
    """Every registered component, by kind and name."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}

    def register(
        self, kind: str, name: str, target: Any, *, plugin: str, description: str | None = None
    ) -> Registration:
        """Add a component; refuse bad names, bad targets and duplicates."""
        if kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}")
        label = KIND_LABELS[kind]
        if not isinstance(name, str) or not _NAME.match(name):
            raise PluginError(
                f"plugin {plugin!r} registered a {label} with the invalid name {name!r}",
                hint="names are lower case letters, digits, '.', '_' and '-'",
            )
        if kind == "preset":
            path = Path(target)
            if path.suffix != ".toml" or not path.is_file():
                raise PluginError(
                    f"plugin {plugin!r} registered preset {name!r} with {str(path)!r}, "
                    "which is not an existing .toml file"
                )
            target = path
            description = description if description is not None else ""
        elif not callable(target):
            raise PluginError(
                f"plugin {plugin!r} registered {label} {name!r} with a non-callable factory"
            )
        existing = self._items[kind].get(name)
        if existing is not None:
            raise DuplicateComponentError(
                f"{label} {name!r} is registered by both {existing.plugin!r} and {plugin!r}",
                hint="uninstall one of them, or skip one with BAMNET_LOAD_PLUGINS",
            )
        reg = Registration(
            kind=kind,
            name=name,
            target=target,
            plugin=plugin,
            description=description if description is not None else _summary(target),
        )
        self._items[kind][name] = reg
        return reg

    def get(self, kind: str, name: str) -> Registration:
        """Look a component up; an unknown name lists the registered ones."""
        try:
            return self._items[kind][name]
        except KeyError:
            known = ", ".join(sorted(self._items[kind])) or "(none)"
            raise UnknownComponentError(
                f"unknown {KIND_LABELS[kind]} {name!r}; registered: {known}",
                hint="`bamnet plugins --all` lists what each plugin provides",
            ) from None

    def names(self, kind: str) -> list[str]:
        """Registered names of one kind, sorted."""
        return sorted(self._items[kind])

    def all(self, kind: str) -> list[Registration]:
        """Registrations of one kind, sorted by name."""
        return [self._items[kind][name] for name in self.names(kind)]

    def by_plugin(self, plugin: str) -> dict[str, list[str]]:
        """What one plugin registered: kind -> names (kinds it gave nothing omitted)."""
        out: dict[str, list[str]] = {}
        for kind in KINDS:
            names = sorted(n for n, r in self._items[kind].items() if r.plugin == plugin)
            if names:
                out[kind] = names
        return out

    def drop_plugin(self, plugin: str) -> None:
        """Withdraw everything a plugin registered (used when it turns out broken)."""
        for kind in KINDS:
            for name in [n for n, r in self._items[kind].items() if r.plugin == plugin]:
                del self._items[kind][name]
