"""The plugin manager: built-ins, entry points, ``BAMNET_LOAD_PLUGINS``, tracing.

Loading order is documented in ``docs/plugins/guide.md``: the modules in
:data:`DEFAULT_PLUGINS` first, then third-party distributions from the
entry-point group ``bamnet`` in name order. A plugin that fails to import,
implements a hook that does not exist, raises inside a hook, or adds a
command whose name is taken is recorded as broken (naming its distribution
and the hook) and everything it registered is withdrawn; the rest keep working.

Hook calls are logged at DEBUG level on the ``bamnet.plugins`` logger; the
CLI shows them on stderr when ``BAMNET_TRACE_PLUGINS=1``.
"""

from __future__ import annotations

import importlib
import logging
import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from .. import __version__
from ..contract import hookspecs
from ..errors import BamnetError, PluginError, PluginFault
from .commands import (
    CommandClash,
    added_commands,
    command_names,
    guard_commands,
    remove_commands,
)
from .faults import contain
from .info import BrokenPlugin, PluginInfo, describe
from .registry import Registry

ENTRY_POINT_GROUP = "bamnet"
LOAD_ENV = "BAMNET_LOAD_PLUGINS"
TRACE_ENV = "BAMNET_TRACE_PLUGINS"
BUILTIN_DISTRIBUTION = "bamnet"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "bamnet_paper.sources",
    "bamnet_paper.backbones",
    "bamnet_paper.generators",
    "bamnet_paper.evaluators",
    "bamnet_paper.gan_quality",
    "bamnet_paper.lungs",
    "bamnet_paper.presets",
)

log = logging.getLogger("bamnet.plugins")


def _all_entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def selected_entry_points(env: Mapping[str, str] | None = None) -> list[EntryPoint]:
    """Entry points of the ``bamnet`` group that ``BAMNET_LOAD_PLUGINS`` allows.

    Unset: all of them. Set: only the comma-separated names; empty: none.
    """
    env = os.environ if env is None else env
    eps = _all_entry_points()
    wanted = env.get(LOAD_ENV)
    if wanted is None:
        return eps
    names = {n.strip() for n in wanted.split(",") if n.strip()}
    return [ep for ep in eps if ep.name in names]


class PluginHost:
    """Loaded plugins, the components they registered, and what broke.

    Build one with :func:`load_plugins`.

    :param hidden: installed plugins that ``BAMNET_LOAD_PLUGINS`` left out.
    """

    def __init__(self, *, hidden: int = 0) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.failures: dict[str, BrokenPlugin] = {}
        self.hidden = hidden
        self._infos: dict[str, PluginInfo] = {}

    # -- loading ---------------------------------------------------------
    def add_plugin(
        self, plugin: object, *, name: str, distribution: str, version: str, builtin: bool
    ) -> None:
        """Register a plugin object or module with the manager, checking its hooks."""
        info = PluginInfo(name=name, distribution=distribution, version=version, builtin=builtin)
        self._infos[name] = info
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self.record_failure(name, "contract", exc)
            return
        info.hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or [])

    def add_broken(self, *, name: str, distribution: str, version: str,
                   exc: BaseException) -> None:
        """Record a plugin that could not even be imported."""
        self._infos[name] = PluginInfo(name=name, distribution=distribution, version=version,
                                       builtin=False)
        self.record_failure(name, "import", exc)

    def record_failure(self, name: str, hook: str, exc: BaseException) -> None:
        """Mark plugin ``name`` broken by ``exc`` in ``hook`` and withdraw its components."""
        info = self._infos[name]
        failure = BrokenPlugin(
            plugin=name,
            distribution=info.distribution,
            hook=hook,
            error=describe(exc),
            traceback="".join(traceback.format_exception(exc)),
        )
        self.failures.setdefault(name, failure)
        info.error = failure.message()
        self.registry.drop_plugin(name)

    def call_registry_hooks(self) -> None:
        """Call every ``register_*`` hook plugin by plugin, isolating failures."""
        for hook_name, kind in hookspecs.REGISTRY_HOOKS.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                if impl.plugin_name in self.failures:
                    continue
                register = self._register_callback(kind, impl.plugin_name)
                self._call_impl(impl, hook_name, {"register": register})

    def call_register_commands(self, app: Any, reserved: Sequence[str] = ()) -> None:
        """Let plugins add CLI commands to ``app``; refuse names already taken.

        :param reserved: bamnet's own command names that ``app`` does not hold yet
            (the CLI registers its built-ins only when one is run).
        """
        owners = {name: BUILTIN_DISTRIBUTION for name in [*reserved, *command_names(app)]}
        for impl in self.pm.hook.register_commands.get_hookimpls():
            name = impl.plugin_name
            if name in self.failures:
                continue
            before = added_commands(app)
            if not self._call_impl(impl, "register_commands", {"app": app}):
                remove_commands(app, before)
                continue
            new = command_names(app, since=before)
            taken = [c for c in new if c in owners or new.count(c) > 1]
            if taken:
                remove_commands(app, before)
                owner = owners.get(taken[0], self._infos[name].distribution)
                self.record_failure(name, "register_commands", CommandClash(
                    f"command {taken[0]!r} is already provided by {owner}"))
                continue
            guard_commands(app, before, self._infos[name].distribution)
            self._infos[name].commands = sorted(new)
            owners.update({c: self._infos[name].distribution for c in new})

    def _call_impl(self, impl: Any, hook_name: str, kwargs: dict[str, Any]) -> bool:
        """Call one hook implementation; a plugin that raises is recorded broken, not raised."""
        log.debug("%s.%s()", impl.plugin_name, hook_name)
        call = contain(impl.function, f"hook {hook_name}",
                       self._infos[impl.plugin_name].distribution)
        try:
            call(**{k: kwargs[k] for k in impl.argnames})
        except BamnetError as exc:  # a plugin's bug must not take the others down
            cause = exc.error if isinstance(exc, PluginFault) else exc
            self.record_failure(impl.plugin_name, hook_name, cause)
            return False
        return True

    def _register_callback(self, kind: str, plugin: str) -> Callable[..., None]:
        distribution = self._infos[plugin].distribution

        def register(name: str, target: Any, description: str | None = None, *,
                     default: bool = False) -> None:
            self.registry.register(kind, name, target, plugin=plugin,
                                   distribution=distribution, description=description,
                                   default=default)

        register.__doc__ = f"Register a {kind.replace('_', ' ')} under ``name``."
        return register

    # -- reporting -------------------------------------------------------
    def infos(self, *, include_builtin: bool = True) -> list[PluginInfo]:
        """Every plugin with its hooks and components; built-ins first."""
        out = []
        for info in self._infos.values():
            if info.builtin and not include_builtin:
                continue
            info.components = self.registry.by_plugin(info.name)
            out.append(info)
        return out

    def pins(self) -> list[str]:
        """``distribution==version`` for every loaded plugin distribution."""
        return sorted({f"{i.distribution}=={i.version}" for i in self._infos.values()})

    def raise_for_failures(self) -> None:
        """Raise one :class:`PluginError` for the first broken plugin, if any."""
        if not self.failures:
            return
        failure = next(iter(self.failures.values()))
        others = len(self.failures) - 1
        extra = f" (and {others} more broken plugin{'s' * (others > 1)})" if others else ""
        raise PluginError(
            failure.message() + extra,
            hint=(
                f"fix or remove it (`bamnet uninstall {failure.distribution}`), or skip it: "
                f"BAMNET_LOAD_PLUGINS lists the plugins to load; `bamnet plugins` shows them all"
            ),
        )


def load_plugins(
    env: Mapping[str, str] | None = None,
    *,
    extra: tuple[tuple[str, object], ...] = (),
) -> PluginHost:
    """Load the built-in plugins, the allowed entry points, and ``extra`` objects.

    :param env: environment to read ``BAMNET_LOAD_PLUGINS`` from (default: ``os.environ``).
    :param extra: ``(name, plugin_object)`` pairs registered after the others;
        tests use it to register throwaway plugins in-process.
    """
    env = os.environ if env is None else env
    selected = selected_entry_points(env)
    hidden = len({ep.name for ep in _all_entry_points()} - {ep.name for ep in selected})
    host = PluginHost(hidden=hidden)
    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        host.add_plugin(module, name=module_name, distribution=BUILTIN_DISTRIBUTION,
                        version=__version__, builtin=True)
    for ep in selected:
        dist = ep.dist.name if ep.dist is not None else ep.value.split(":")[0]
        version = ep.dist.version if ep.dist is not None else "unknown"
        try:
            obj = ep.load()
        except Exception as exc:
            host.add_broken(name=ep.name, distribution=dist, version=version, exc=exc)
            continue
        host.add_plugin(obj, name=ep.name, distribution=dist, version=version, builtin=False)
    for name, obj in extra:
        host.add_plugin(obj, name=name, distribution=name, version="0", builtin=False)
    host.call_registry_hooks()
    return host
