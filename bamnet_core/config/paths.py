"""Relative paths in a config: which options hold paths, and what they are relative to.

Options annotated ``Path`` resolve relative paths against the folder of the config file that
holds them, or the current folder for ``--set`` values; ``~`` expands. The resolved
``config.toml`` of a run then holds absolute paths and reruns from anywhere.
"""

from __future__ import annotations

import inspect
import typing
from pathlib import Path, PurePath
from typing import Any


def mentions_path(tp: Any) -> bool:
    if inspect.isclass(tp) and issubclass(tp, PurePath):
        return True
    return any(mentions_path(arg) for arg in typing.get_args(tp))


def resolve_path(value: Any, base: Path) -> Any:
    """Relative path strings (also in lists) made absolute against ``base``."""
    if isinstance(value, str) and value:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else base / path)
    if isinstance(value, list):
        return [resolve_path(v, base) for v in value]
    return value
