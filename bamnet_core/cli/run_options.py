"""What the commands that start runs share: a config, its overrides and where runs go.

``bamnet run``, ``bamnet ablate`` and ``bamnet loso`` take the same ``CONFIG``
argument and the same ``--set``, ``--unset``, ``--seed``, ``--data``,
``--output-dir`` and ``--json`` options, defined here once, and load the
config the same way (:func:`load_run_config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config.load import load_config
from ..config.resolved import Config
from ..data.sources import detect_source
from ..plugins.manager import PluginHost
from .output import warn

ConfigArgument = Annotated[str, typer.Argument(help="Preset name or path of a TOML config.")]
OutputDirOption = Annotated[Path, typer.Option(
    "--output-dir", "-o", help="Folder that receives the run folders.")]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Replace run.seed.")]
DataOption = Annotated[Path | None, typer.Option(
    "--data", help="Read this data instead of the config's sources: a manifest CSV, an image "
                   "folder or a dataset's folder (its source is detected).")]

#: Where run folders go unless ``--output-dir`` says otherwise.
RUNS = Path("runs")


def load_run_config(host: PluginHost, config: str, *, set_: list[str] | None,
                    unset: list[str] | None, seed: int | None, data: Path | None) -> Config:
    """Load and validate ``config`` with the command line's overrides; print its notices.

    Nothing heavy is imported: a bad value is refused in a fraction of a second.
    """
    source = None if data is None else detect_source(data.expanduser().absolute(), host.registry)
    cfg = load_config(config, host.registry, overrides=set_ or [], unsets=unset or [],
                      seed=seed, data=source)
    for message in cfg.notices:
        warn(message)
    return cfg
