"""The stages of a run, their timer, and what a run returns.

A finished stage is announced as a ``stage-done`` progress event with its wall time
(``bamnet run`` prints one line per stage) and its time lands in ``meta.json``; a
stage a resumed run takes from an earlier attempt is announced as ``stage-kept``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..config.resolved import Config
from ..errors import RunError


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    warnings: list[str]
    files: dict[str, str] = field(default_factory=dict)


STAGES = ("data", "generator", "decode", "audit", "train", "evaluate", "report", "export")
RERUNNABLE = ("evaluate", "report", "export")
# stages whose results are on disk when they end, so a run can stop after them
STOPPABLE = ("generator", "audit", "train", "evaluate", "report", "export")


class StoppedAfter(Exception):  # noqa: N818 - a signal, not an error
    """Raised after the stage ``--until`` named; the run folder is left resumable."""


class StageTimer:
    """Times each stage; a finished stage is announced as a ``stage-done`` progress event.

    :param until: stop (raise :class:`StoppedAfter`) once this stage has finished.
    """

    def __init__(self, progress: ProgressCallback = silent, until: str | None = None) -> None:
        self.timings: dict[str, float] = {}
        self.progress = progress
        self.until = until

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = round(time.perf_counter() - start, 3)
            self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)
        self.progress(ProgressEvent("stage-done", 1, 1, name, {"seconds": seconds}))
        if name == self.until:
            raise StoppedAfter(name)

    def kept(self, name: str) -> None:
        """Announce that ``name`` was finished by an earlier attempt and is not run again."""
        self.timings.setdefault(name, 0.0)
        self.progress(ProgressEvent("stage-kept", 1, 1, name))
        if name == self.until:
            raise StoppedAfter(name)


def check_until(config: Config, until: str | None) -> None:
    """Refuse a stage name the run would never reach."""
    if until is None:
        return
    if until not in STOPPABLE:
        raise RunError(f"--until {until!r}: a run can stop after {', '.join(STOPPABLE)}",
                       hint="for example --until audit")
    if (until == "generator" and not config.generator.enabled) or \
            (until == "export" and not config.export.onnx):
        raise RunError(f"--until {until}: this config has no {until} stage",
                       hint=f"enable [{until}] in the config, or stop at another stage")
