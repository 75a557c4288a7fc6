"""Plugins: the manager that loads them, the registry of what they provide, pip for installing.

``from bamnet_core.plugins import load_plugins`` builds a :class:`PluginHost`:
built-in plugins, then the installed ones :envvar:`BAMNET_LOAD_PLUGINS` allows.
"""

from __future__ import annotations

from .manager import (
    DEFAULT_PLUGINS,
    ENTRY_POINT_GROUP,
    BrokenPlugin,
    PluginHost,
    PluginInfo,
    load_plugins,
    selected_entry_points,
)
from .registry import Registration, Registry

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "BrokenPlugin",
    "PluginHost",
    "PluginInfo",
    "Registration",
    "Registry",
    "load_plugins",
    "selected_entry_points",
]
