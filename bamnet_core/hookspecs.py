"""Alias kept for plugins written against bamnet 0.1: import from :mod:`bamnet_core.contract`."""

from __future__ import annotations

from .contract.hookspecs import *  # noqa: F403
from .contract.hookspecs import hookimpl, hookspec, register_commands  # noqa: F401
