"""Name -> component lookup, with the record of which plugin gave what.

Plugins register factories through the ``register`` callbacks handed to their
hooks. The registry refuses a bad name, a factory whose options cannot be
configured (:func:`~.options.check_factory`), and a second component of the
same kind and name, naming both plugins: runs must be reproducible, so
nothing is silently renamed or shadowed.
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contract.kinds import BY_NAME, KINDS
from ..errors import DuplicateComponentError, PluginError, UnknownComponentError
from .options import OptionSchemaError, check_factory

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
DEFAULT_KINDS = ("evaluator", "lung_field_estimator")
"""Kinds a plugin may register with ``default=True``."""
ONE_DEFAULT = ("lung_field_estimator",)
"""Kinds a run uses one of: a second default is refused."""


@dataclass(frozen=True)
class Registration:
    """One registered component.

    :param kind: a kind name from :data:`bamnet_core.contract.KINDS`.
    :param name: the name configs use to pick it.
    :param target: the factory (a callable), or for presets the TOML path.
    :param plugin: the plugin that registered it.
    :param distribution: the distribution that installed the plugin.
    :param description: one line for listings; defaults to the factory's
        docstring summary.
    :param default: an evaluator a run uses when its config lists none, or the
        lung-field estimator a run uses when its config names none.
    """

    kind: str
    name: str
    target: Any
    plugin: str
    distribution: str = ""
    description: str = ""
    default: bool = False

    @property
    def label(self) -> str:
        """``"backbone 'vgg16'"``: how messages name the component."""
        return f"{BY_NAME[self.kind].label} {self.name!r}"


def _summary(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Registry:
    """Every registered component, by kind and name."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Registration]] = {k.name: {} for k in KINDS}

    def register(self, kind: str, name: str, target: Any, *, plugin: str,
                 distribution: str = "", description: str | None = None,
                 default: bool = False) -> Registration:
        """Add a component; refuse bad names, bad targets, bad options and duplicates."""
        if kind not in self._items:
            raise ValueError(f"unknown component kind {kind!r}")
        label = BY_NAME[kind].label
        if default and kind not in DEFAULT_KINDS:
            raise PluginError(f"plugin {plugin!r} registered {label} {name!r} with "
                              "default=True, which only evaluators and lung-field "
                              "estimators take", hint="drop default=True from that "
                              "register() call")
        if default and kind in ONE_DEFAULT and self.defaults(kind):
            other = self._items[kind][self.defaults(kind)[0]]
            raise PluginError(f"plugin {plugin!r} registered {label} {name!r} with "
                              f"default=True, but {other.plugin!r} made {other.name!r} the "
                              "default already; a run uses one",
                              hint="drop default=True from that register() call; a config "
                                   f"picks it with [{BY_NAME[kind].section}] "
                                   f"{BY_NAME[kind].pick}")
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
                    "which is not an existing .toml file",
                    hint="ship presets as package data ([tool.setuptools.package-data])")
            target = path
            description = description if description is not None else ""
        elif not callable(target):
            raise PluginError(
                f"plugin {plugin!r} registered {label} {name!r} with a non-callable factory"
            )
        else:
            try:
                check_factory(target)
            except OptionSchemaError as exc:
                raise PluginError(f"plugin {plugin!r} registered {label} {name!r}, whose "
                                  f"{exc}", hint="see docs/plugins/options.md for the "
                                  "annotations options may use") from None
        existing = self._items[kind].get(name)
        if existing is not None:
            raise DuplicateComponentError(
                f"{label} {name!r} is registered by both {existing.plugin!r} and {plugin!r}",
                hint="uninstall one of them, or skip one with BAMNET_LOAD_PLUGINS",
            )
        reg = Registration(kind=kind, name=name, target=target, plugin=plugin,
                           distribution=distribution or plugin,
                           description=description if description is not None
                           else _summary(target), default=bool(default))
        self._items[kind][name] = reg
        return reg

    def get(self, kind: str, name: str) -> Registration:
        """Look a component up; an unknown name lists the registered ones."""
        try:
            return self._items[kind][name]
        except KeyError:
            names = sorted(self._items[kind])
            close = difflib.get_close_matches(str(name), names, n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownComponentError(
                f"unknown {BY_NAME[kind].label} {name!r}{guess}; registered: "
                f"{', '.join(names) or '(none)'}",
                hint="`bamnet plugins --all` lists what each plugin provides",
            ) from None

    def defaults(self, kind: str) -> list[str]:
        """Names of one kind registered with ``default=True``, in registration order."""
        return [name for name, reg in self._items[kind].items() if reg.default]

    def names(self, kind: str) -> list[str]:
        """Registered names of one kind, sorted."""
        return sorted(self._items[kind])

    def all(self, kind: str) -> list[Registration]:
        """Registrations of one kind, sorted by name."""
        return [self._items[kind][name] for name in self.names(kind)]

    def by_plugin(self, plugin: str) -> dict[str, list[str]]:
        """What one plugin registered: kind -> names (kinds it gave nothing omitted)."""
        out: dict[str, list[str]] = {}
        for kind in self._items:
            names = sorted(n for n, r in self._items[kind].items() if r.plugin == plugin)
            if names:
                out[kind] = names
        return out

    def drop_plugin(self, plugin: str) -> None:
        """Withdraw everything a plugin registered (used when it turns out broken)."""
        for kind in self._items:
            for name in [n for n, r in self._items[kind].items() if r.plugin == plugin]:
                del self._items[kind][name]
