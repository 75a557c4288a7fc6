"""Paths written inside run files: relative to the run folder, or absolute and canonical.

A run folder can be moved, or resumed from another working directory, and
it means the same thing: a file the run made (the generator's images) is
recorded relative to the run folder; original data is recorded by its
absolute canonical path (symlinks resolved), never relative to the working
directory of the attempt that wrote it. URLs and other non-local names pass
unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any


def is_local(path: str) -> bool:
    """Whether ``path`` names a local file (not ``s3://...`` or another URL)."""
    return "://" not in path


def canonical(path: str | Path) -> str:
    """The absolute canonical form of a local path (symlinks resolved); a URL unchanged."""
    text = str(path)
    return os.path.realpath(text) if is_local(text) else text


def to_record(run_dir: str | Path, path: str | Path) -> str:
    """How ``path`` is written inside a run file of ``run_dir``.

    Inside the run folder: relative, ``/`` separated (``generator/images/x.png``).
    Elsewhere: absolute and canonical.
    """
    text = str(path)
    if not is_local(text):
        return text
    full = Path(canonical(text))
    try:
        return full.relative_to(Path(canonical(run_dir))).as_posix()
    except ValueError:
        return str(full)


def from_record(run_dir: str | Path, recorded: str) -> str:
    """The path a run file's entry names, for the run folder where it is now.

    A relative entry is inside the run folder; an absolute one or a URL is
    returned as it is.
    """
    if not is_local(recorded) or os.path.isabs(recorded):
        return recorded
    return str(Path(run_dir).absolute() / PurePosixPath(recorded))


def relativize(obj: Any, run_dir: str | Path) -> Any:
    """``obj`` (JSON values) with every string naming a path inside ``run_dir`` made relative.

    Keys are rewritten too (``image-properties.json`` is keyed by path).
    Strings outside the run folder, relative strings and URLs are unchanged.
    """
    prefixes = tuple({str(Path(run_dir).absolute()) + os.sep, canonical(run_dir) + os.sep})

    def one(value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith(prefixes):
                return to_record(run_dir, value)
            return value
        if isinstance(value, dict):
            return {one(k): one(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [one(v) for v in value]
        return value

    return one(obj)
