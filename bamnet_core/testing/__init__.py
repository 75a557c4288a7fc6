"""Helpers for testing bamnet plugins: load a plugin in-process, check its components against
their contracts, and run a preset with it.

Plugin authors use these from their own test suites (``bamnet plugins new`` writes tests that
do)::

    from bamnet_core.testing import check_backbone, load_with, run_preset

    host = load_with(my_plugin)
    check_backbone(MyNet())  # one check per kind: see :mod:`.conformance`
    result = run_preset("my-preset", plugins=[("mine", my_plugin)], output_dir=tmp_path)

Installed third-party plugins are not loaded, so a test sees only bamnet's built-ins and the
plugins it passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..config.load import load_config
from ..experiment.runner import RunResult, run_experiment
from ..plugins.manager import PluginHost, load_plugins
from .conformance import (
    ContractError,
    check_backbone,
    check_evaluator,
    check_generator,
    check_source,
)

__all__ = ["ContractError", "check_backbone", "check_evaluator", "check_generator",
           "check_source", "load_installed", "load_with", "run_preset"]


def load_with(*plugins: object, names: Sequence[str] | None = None) -> PluginHost:
    """Bamnet's built-in plugins plus ``plugins`` (modules or objects with hook implementations).

    :param names: the plugins' names (default: each module's ``__name__``).
    """
    labels = list(names) if names is not None else \
        [getattr(p, "__name__", type(p).__name__) for p in plugins]
    return load_plugins({"BAMNET_LOAD_PLUGINS": ""}, extra=tuple(zip(labels, plugins,
                                                                     strict=True)))


def load_installed(*names: str) -> PluginHost:
    """Bamnet's built-ins plus the installed plugins (entry-point names) ``names`` only."""
    return load_plugins({"BAMNET_LOAD_PLUGINS": ",".join(names)})


def run_preset(ref: str | Path, *, plugins: Sequence[tuple[str, object]] = (),
               output_dir: str | Path, overrides: Sequence[str] = ()) -> RunResult:
    """Run a preset (or TOML file) end to end with the built-ins plus ``plugins``.

    :raises bamnet_core.errors.BamnetError: as ``bamnet run`` would report it.
    """
    host = load_with(*[p for _, p in plugins], names=[n for n, _ in plugins])
    host.raise_for_failures()
    config = load_config(str(ref), host.registry, overrides=list(overrides))
    return run_experiment(config, host, output_dir=output_dir)
