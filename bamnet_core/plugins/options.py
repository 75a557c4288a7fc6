"""A component factory's keyword parameters are its config schema.

:func:`factory_options` reads the parameters (names, annotations, defaults);
:func:`options_model` turns them into a pydantic model that validates config
values; :func:`check_factory` is run when a plugin registers a component and
refuses annotations that cannot round-trip through TOML (write the resolved
``config.toml``, read it back, validate it again) or that do not resolve.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Annotated, Any, Literal

import pydantic

MODEL_CONFIG = pydantic.ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True,
                                   arbitrary_types_allowed=False)
_SCALARS = (bool, int, float, str, type(None))


class OptionSchemaError(Exception):
    """A factory parameter's annotation is not usable as a config option."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"option {parameter!r}: {problem}")
        self.parameter = parameter
        self.problem = problem


@dataclass(frozen=True)
class Option:
    """One keyword a component factory accepts.

    :param annotation: the resolved annotation (``typing.Any`` when there is none).
    :param default: the default value; ``None`` when ``required``.
    """

    name: str
    annotation: Any
    default: Any
    required: bool


def _hints(factory: Callable[..., Any]) -> dict[str, Any]:
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError:
        if inspect.isclass(factory) and dataclasses.is_dataclass(factory):
            return typing.get_type_hints(factory, include_extras=True)
        raise


def _unresolved(factory: Callable[..., Any]) -> str:
    """The first parameter whose string annotation fails to evaluate (``"?"`` if none)."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    namespace = dict(getattr(target, "__globals__", {}))
    for name, annotation in getattr(target, "__annotations__", {}).items():
        if name == "return" or not isinstance(annotation, str):
            continue
        try:
            eval(annotation, namespace)  # noqa: S307 - the plugin's own annotation text
        except Exception:
            return name
    return "?"


def factory_options(factory: Callable[..., Any]) -> dict[str, Option]:
    """The keyword options a component factory accepts, from its signature.

    :raises OptionSchemaError: an annotation names something that does not
        resolve at run time (for example a name imported only under
        ``TYPE_CHECKING``).
    """
    try:
        hints = _hints(factory)
    except Exception as exc:  # NameError, or a syntax error inside a string annotation
        raise OptionSchemaError(_unresolved(factory), f"its annotation does not resolve "
                                f"({type(exc).__name__}: {exc}); import what it names at "
                                "module level, not only under TYPE_CHECKING") from None
    options: dict[str, Option] = {}
    for param in inspect.signature(factory).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            continue
        required = param.default is inspect.Parameter.empty
        options[param.name] = Option(name=param.name, annotation=hints.get(param.name, Any),
                                     default=None if required else param.default,
                                     required=required)
    return options


def _check_annotation(tp: Any, where: str, inside: bool = False) -> None:
    """Refuse what TOML cannot carry both ways.

    :param inside: ``tp`` is an item of a list, tuple or table, where TOML has no way to
        write None (a top-level None option is written by leaving the key out).
    """
    if inside and tp is type(None):
        raise OptionSchemaError(where, "None cannot be written in TOML inside a list or "
                                "table; make the whole option optional instead")
    if tp is Any or tp in _SCALARS:
        return
    if inspect.isclass(tp) and issubclass(tp, PurePath):
        return
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        _check_annotation(args[0], where, inside)
        return
    if origin is Literal:
        bad = [a for a in args if not isinstance(a, _SCALARS[:-1])]
        if bad:
            raise OptionSchemaError(where, f"Literal values must be bool, int, float or str, "
                                    f"not {bad[0]!r}")
        return
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            _check_annotation(arg, where, inside)
        return
    if origin in (list, tuple, collections.abc.Sequence):
        for arg in args:
            if arg is not Ellipsis:
                _check_annotation(arg, where, inside=True)
        return
    if origin is dict or tp is dict:
        if args and args[0] is not str:
            raise OptionSchemaError(where, "tables (dict) need str keys")
        if args:
            _check_annotation(args[1], where, inside=True)
        return
    if tp in (list, tuple):
        return
    if inspect.isclass(tp) and (issubclass(tp, pydantic.BaseModel) or
                                dataclasses.is_dataclass(tp) or typing.is_typeddict(tp)):
        for field_tp in typing.get_type_hints(tp, include_extras=True).values():
            _check_annotation(field_tp, where)
        return
    raise OptionSchemaError(where, f"type {getattr(tp, '__name__', tp)!r} cannot be written "
                            "in TOML; use bool, int, float, str, Path, Literal, tuple, list, "
                            "dict, a dataclass or a pydantic model of those")


@functools.lru_cache(maxsize=256)
def options_model(factory: Callable[..., Any]) -> type[pydantic.BaseModel]:
    """A pydantic model whose fields are the factory's keyword options."""
    fields: dict[str, Any] = {}
    for option in factory_options(factory).values():
        default = ... if option.required else option.default
        fields[option.name] = (option.annotation, default)
    name = getattr(factory, "__name__", "Options") + "Options"
    return pydantic.create_model(name, __config__=MODEL_CONFIG, **fields)


def check_factory(factory: Callable[..., Any]) -> None:
    """Check, at registration, that every option can be configured and written back.

    :raises OptionSchemaError: naming the parameter and the problem.
    """
    options = factory_options(factory)
    for option in options.values():
        _check_annotation(option.annotation, option.name)
    try:
        options_model(factory)  # pydantic refuses what it cannot validate
    except pydantic.PydanticSchemaGenerationError as exc:
        raise OptionSchemaError("?", f"unsupported annotation: {exc}") from None
    except Exception as exc:
        raise OptionSchemaError("?", f"{type(exc).__name__}: {exc}") from None
    for option in options.values():
        if option.required:
            continue
        name, value = option.name, option.default
        try:
            adapter = pydantic.TypeAdapter(option.annotation)
            checked = adapter.validate_python(value)
            dumped = adapter.dump_python(checked, mode="json")
            again = adapter.validate_python(dumped)
        except pydantic.ValidationError as exc:
            raise OptionSchemaError(name, f"the default {value!r} is not valid for its own "
                                    f"annotation: {exc.errors()[0]['msg']}") from None
        if again != checked:
            raise OptionSchemaError(name, f"the default {value!r} does not survive being "
                                    "written to TOML and read back")
