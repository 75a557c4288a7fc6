"""Calling plugin code: a plugin's own errors pass, anything else is named as its fault."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import BamnetError, PluginFault
from .registry import Registration

T = TypeVar("T")


def call_plugin(reg: Registration, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` (code of the plugin behind ``reg``) and contain what it raises.

    A :class:`BamnetError` is the plugin speaking to the user and passes
    unchanged. Any other exception becomes a :class:`PluginFault` naming the
    component and its distribution; the original is its ``__cause__``.
    ``KeyboardInterrupt`` and ``SystemExit`` pass.
    """
    try:
        return fn(*args, **kwargs)
    except BamnetError:
        raise
    except Exception as exc:
        raise PluginFault(reg.label, reg.distribution, exc) from exc


class Guarded:
    """A component whose method calls go through :func:`call_plugin`.

    Attribute reads pass through, so capability checks
    (``isinstance(guarded, SplitBackbone)``) see the component's own attributes.

    :param reg: the registration the component was built from.
    :param component: what its factory returned.
    """

    def __init__(self, reg: Registration, component: Any) -> None:
        self._reg = reg
        self._component = component

    @property
    def unwrapped(self) -> Any:
        """The component itself."""
        return self._component

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._component, name)
        if not callable(value) or inspect.isclass(value):
            return value
        reg = self._reg

        @functools.wraps(value)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return call_plugin(reg, value, *args, **kwargs)

        return guarded

    def __repr__(self) -> str:
        return f"Guarded({self._reg.label}, {self._component!r})"
