"""What a report is made of: one run folder's files, read once and checked.

A run that failed part-way still gets a report of what it has; a folder that is
not a run folder, or a file that is not valid JSON, is a :class:`RunError`
naming the file.
"""

from __future__ import annotations

import csv
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RunError
from ..runs import layout


@dataclass
class RunRecord:
    """The parts of a run folder a report shows (missing parts are empty)."""

    path: Path
    config_text: str
    config: dict[str, Any]
    meta: dict[str, Any]
    audit: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, str]]
    external: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The run folder's name."""
        return self.path.name

    @property
    def leaky(self) -> bool:
        """Whether the run split images rather than patients."""
        return bool(self.metrics.get("split", {}).get("leaky")
                    or self.config.get("split", {}).get("by") == "image")


def _json(path: Path, required: bool = False) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise RunError(f"{path} is missing", hint="is this a bamnet run folder?")
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path} is not valid JSON ({exc})",
                       hint="the run folder is damaged; rerun or restore the file") from None
    if not isinstance(value, dict):
        raise RunError(f"{path} does not hold a JSON object", hint="the run folder is damaged")
    return value


def read_run(run_dir: str | Path) -> RunRecord:
    """Read a run folder for reporting.

    :raises RunError: when ``run_dir`` is not a run folder or a file is damaged.
    """
    path = Path(run_dir).expanduser()
    if not path.is_dir() or not (path / layout.CONFIG).is_file():
        raise RunError(f"{path} is not a bamnet run folder (no {layout.CONFIG})",
                       hint="pass a folder that `bamnet run` created, e.g. runs/<stamp>-<name>")
    text = (path / layout.CONFIG).read_text(encoding="utf-8")
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RunError(f"{path / layout.CONFIG} is not valid TOML ({exc})",
                       hint="the run folder is damaged") from None
    history: list[dict[str, str]] = []
    if (path / layout.HISTORY).is_file():
        with open(path / layout.HISTORY, newline="", encoding="utf-8") as fh:
            history = list(csv.DictReader(fh))
    external = {}
    if (path / layout.EXTERNAL).is_dir():
        for sub in sorted((path / layout.EXTERNAL).iterdir()):
            if (sub / layout.METRICS).is_file():
                external[sub.name] = _json(sub / layout.METRICS)
    return RunRecord(path=path, config_text=text, config=config, meta=_json(path / layout.META),
                     audit=_json(path / layout.AUDIT), metrics=_json(path / layout.METRICS),
                     history=history, external=external)
