"""The plugin contract: every hook a bamnet plugin may implement.

Registry hooks receive a ``register`` callback. The core, not the plugin,
owns validation, refuses duplicate names and records which plugin supplied
each component. Hooks are called with keyword arguments only, so an
implementation may accept fewer arguments than its spec.

``docs/plugins/hooks.md`` documents each hook with its exact signature; a
test keeps the two in step.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("bamnet")
hookimpl = pluggy.HookimplMarker("bamnet")


@hookspec
def register_dataset_sources(register: Any) -> None:
    """Register dataset sources: things that yield labelled image samples.

    :param register: call ``register(name, factory, description=None)``.
        ``factory`` is called with the keys of the config's ``[data]``
        section (other than ``source``, ``classes`` and ``positive``) as
        keyword arguments and returns an object that satisfies
        :class:`bamnet_core.components.DatasetSource`. Its keyword
        parameters are the keys the section accepts.
    """


@hookspec
def register_generators(register: Any) -> None:
    """Register image generators (for example a DCGAN) that synthesise samples.

    :param register: call ``register(name, factory, description=None)``.
        ``factory`` receives the ``[generator]`` section's own keys and
        returns a :class:`bamnet_core.components.Generator`.
    """


@hookspec
def register_backbones(register: Any) -> None:
    """Register backbones: builders of classification models.

    :param register: call ``register(name, factory, description=None)``.
        ``factory`` receives the ``[backbone]`` section's keys other than
        ``name`` and returns a :class:`bamnet_core.components.Backbone`.
    """


@hookspec
def register_evaluators(register: Any) -> None:
    """Register evaluators that turn predictions into metrics.

    :param register: call ``register(name, factory, description=None)``.
        ``factory`` takes no arguments and returns a
        :class:`bamnet_core.components.Evaluator`.
    """


@hookspec
def register_presets(register: Any) -> None:
    """Register named run configurations (TOML files).

    :param register: call ``register(name, path, description=None)`` with the
        path of a TOML config file. ``bamnet run NAME`` resolves to it.
    """


@hookspec
def register_commands(app: Any) -> None:
    """Add commands to the ``bamnet`` command line.

    :param app: the root :class:`typer.Typer` application. Add commands with
        ``@app.command()`` or sub-applications with ``app.add_typer(...)``.
    """
