"""The plugin contract: every hook a bamnet plugin may implement.

Registry hooks, one per component kind in :data:`.kinds.KINDS`, receive a
``register`` callback. The core, not the plugin, owns validation, refuses
duplicate names and records which plugin supplied each component. Hooks are
called with keyword arguments only, so an implementation may accept fewer
arguments than its spec.

The specs are written out here, so that each hook's name leads to its
documentation; a test holds them equal to the table of kinds (one
``register_*`` hook per kind, taking ``register``), and
``docs/plugins/hooks.md`` documents each with its exact signature (tested too).
"""

from __future__ import annotations

from typing import Any, Protocol

import pluggy

from .kinds import KINDS

PROJECT = "bamnet"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Register(Protocol):
    """The callback a registry hook receives."""

    def __call__(self, name: str, target: Any, description: str | None = None, *,
                 default: bool = False) -> None:
        """Register ``target`` under ``name``; ``description`` defaults to its docstring.

        Names are lower case letters, digits, ``.``, ``_`` and ``-``; a name
        another plugin registered for the same kind is refused, naming both plugins.
        ``default=True`` (evaluators and lung-field estimators only) puts an evaluator
        in the list a run uses when its config does not give ``[evaluate]
        evaluators``, and makes a lung-field estimator the one a run uses when its
        config does not name one.
        """
        ...


@hookspec
def register_dataset_sources(register: Register) -> None:
    """Register dataset sources.

    :param register: call ``register(name, target, description=None)``. ``target``
        is a factory (usually a class) returning a
        :class:`~bamnet_core.contract.DatasetSource`. Its keyword parameters are
        the keys ``[data]`` accepts besides ``source``, ``classes`` and
        ``positive``; their annotations are validated.
    """


@hookspec
def register_generators(register: Register) -> None:
    """Register generators.

    :param register: call ``register(name, target, description=None)``. ``target``
        is a factory (usually a class) returning a
        :class:`~bamnet_core.contract.Generator`. Its keyword parameters are the
        keys ``[generator]`` accepts besides the core keys (``enabled``, ``name``,
        ``balance_class``, ``ratio``, ``count``).
    """


@hookspec
def register_backbones(register: Register) -> None:
    """Register backbones.

    :param register: call ``register(name, target, description=None)``. ``target``
        is a factory (usually a class) returning a
        :class:`~bamnet_core.contract.Backbone`. Its keyword parameters are the
        keys ``[backbone]`` accepts besides ``name``.
    """


@hookspec
def register_evaluators(register: Register) -> None:
    """Register evaluators.

    :param register: call ``register(name, target, description=None)``. ``target``
        is a factory (usually a class) returning an
        :data:`~bamnet_core.contract.Evaluator`: a ``PlainEvaluator``
        (``evaluate``), a ``ContextEvaluator`` (``evaluate_context``) or a
        ``SyntheticAssessor`` (``assess``). Its keyword parameters are the keys
        ``[evaluate.options.NAME]`` accepts (its options, the rules of its verdict
        lines included); ``[evaluate] evaluators`` lists the evaluators a run uses,
        and without it a run uses every evaluator registered with ``default=True``,
        in the order they were registered. ``evaluate_context`` or ``evaluate`` may
        return :class:`~bamnet_core.contract.Findings`: results, verdict lines and
        the split's headline numbers.
    """


@hookspec
def register_lung_field_estimators(register: Register) -> None:
    """Register lung-field estimators.

    :param register: call ``register(name, target, description=None, *,
        default=False)``. ``target`` is a factory (usually a class) returning a
        :class:`~bamnet_core.contract.LungFieldEstimator`. Its keyword parameters
        are the keys ``[lungs]`` accepts besides ``estimator``, ``masks`` and
        ``column``. A run uses the estimator ``[lungs] estimator`` names, else the
        one registered with ``default=True`` (the built-in ``anatomical``); two
        defaults are refused.
    """


@hookspec
def register_presets(register: Register) -> None:
    """Register presets: named run configurations.

    :param register: call ``register(name, target, description=None)``. ``target``
        is the path of a TOML config file. ``bamnet run NAME`` resolves to it;
        ship it as package data.
    """


@hookspec
def register_commands(app: Any) -> None:
    """Add commands to the ``bamnet`` command line.

    :param app: the root :class:`typer.Typer` application. Add commands with
        ``@app.command()`` or sub-applications with ``app.add_typer(...)``. A
        command whose name is already taken (by bamnet or another plugin) is
        refused, and the plugin is reported as broken.
    """


REGISTRY_HOOKS: dict[str, str] = {k.hook: k.name for k in KINDS}
"""Registry hook name -> the kind it registers."""
