"""The one fault boundary around plugin code: its own errors pass, anything else is its fault.

:func:`contain` applies the rule and nothing else in bamnet writes it again:

- a :class:`BamnetError` raised by plugin code is the plugin speaking to the
  user (``ConfigError``, ``DataError``, with a hint) and passes unchanged;
- any other :class:`Exception` becomes a :class:`PluginFault` naming the
  component and the distribution that shipped it, the original as its
  ``__cause__``;
- ``KeyboardInterrupt`` and ``SystemExit`` pass.

Every call into plugin code goes through it: components built from a config
(:class:`Guarded`), one-off calls such as a source class's ``detect``
(:func:`call_plugin`), hook implementations (the plugin manager) and plugin
commands (:mod:`.commands`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from ..errors import BamnetError, PluginFault
from .registry import Registration

P = ParamSpec("P")
T = TypeVar("T")

Translate = Callable[[Exception], BaseException | None]
"""What to raise instead of a :class:`PluginFault` for one exception: another
exception (raised from the original), the exception itself (it passes
unchanged), or None (the rule applies)."""


def contain(fn: Callable[P, T], component: str, distribution: str, *,
            translate: Translate | None = None) -> Callable[P, T]:
    """``fn`` (plugin code) wrapped in the fault boundary.

    :param component: how messages name the code, e.g. ``"evaluator 'brier'"``.
    :param distribution: the distribution that shipped it.
    :param translate: asked first about an exception that is not a
        :class:`BamnetError` (a factory's ``ValueError`` is a config problem;
        a command line's own exit signals pass); see :data:`Translate`.
    """

    @functools.wraps(fn)  # Typer reads a command's signature through __wrapped__
    def contained(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except BamnetError:
            raise
        except Exception as exc:
            instead = translate(exc) if translate is not None else None
            if instead is exc:
                raise
            raise (instead or PluginFault(component, distribution, exc)) from exc

    return contained


def call_plugin(reg: Registration, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call ``fn``, code of the plugin behind ``reg``, inside the fault boundary."""
    return contain(fn, reg.label, reg.distribution)(*args, **kwargs)


class Guarded:
    """A component whose method calls go through the fault boundary (:func:`contain`).

    Attribute reads pass through, so capability checks
    (``isinstance(guarded, SplitBackbone)``) see the component's own attributes.

    :param reg: the registration the component was built from.
    :param component: what its factory returned.
    """

    def __init__(self, reg: Registration, component: Any) -> None:
        self._reg = reg
        self._component = component

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._component, name)
        if not callable(value) or inspect.isclass(value):
            return value
        return contain(value, self._reg.label, self._reg.distribution)

    def __repr__(self) -> str:
        return f"Guarded({self._reg.label}, {self._component!r})"
