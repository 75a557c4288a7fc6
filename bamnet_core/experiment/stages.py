"""What a stage of a run is (:class:`Stage`), and the timer that announces each one.

A stage has a name, says whether this config has it (:meth:`Stage.configured`),
runs (:meth:`Stage.run`) and, on ``bamnet resume``, may keep what an earlier attempt
finished (:meth:`Stage.keep`); either way it returns its typed result
(:mod:`.results`), which the driver stores on the context and records. The
list of stages, in order, is :data:`bamnet_core.experiment.pipeline.STAGES`.

A finished stage is announced as a ``stage-done`` progress event with its wall
time (``bamnet run`` prints one line per stage) and its time lands in
``meta.json``; a kept stage is announced as ``stage-kept``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..config.resolved import Config
from .results import StageResult

if TYPE_CHECKING:
    from .context import RunContext


class Stage:
    """One stage of a run. Subclasses set :attr:`name` and implement :meth:`run`.

    :cvar name: the stage's name (``--until``, ``--from``, ``meta.json``).
    :cvar recorded: the stage records itself in ``meta.json`` when done, so a
        resumed run can keep it (decoding is not: the cache makes it cheap).
    :cvar rerunnable: ``--from`` may redo it on a finished run.
    """

    name: ClassVar[str] = ""
    recorded: ClassVar[bool] = True
    rerunnable: ClassVar[bool] = False

    def configured(self, config: Config) -> bool:
        """Whether this config has the stage at all (``[generator] enabled``, ...)."""
        return True

    def enabled(self, ctx: RunContext) -> bool:
        """Whether the stage runs in this attempt; by default, when configured."""
        return self.configured(ctx.config)

    def keep(self, ctx: RunContext) -> StageResult | None:
        """The result an earlier attempt finished, read from the folder; None when it must run.

        Called only on a resumed run, and only while every earlier stage was kept.
        """
        return None

    def run(self, ctx: RunContext) -> StageResult:
        """Do the stage's work, write its files to the folder, and return its result."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<stage {self.name}>"


class StoppedAfter(Exception):  # noqa: N818 - a signal, not an error
    """Raised after the stage ``--until`` named; the run folder is left resumable."""


class StageTimer:
    """Times each stage; a finished stage is announced as a ``stage-done`` progress event."""

    def __init__(self, progress: ProgressCallback = silent,
                 timings: dict[str, float] | None = None) -> None:
        self.timings: dict[str, float] = dict(timings or {})
        self.progress = progress

    @contextmanager
    def stage(self, name: str, *, spent: float = 0.0) -> Iterator[dict[str, Any]]:
        """Time the body as stage ``name``, plus ``spent`` seconds done before it.

        The body may put a ``note`` (a few words on what the stage made) into the
        dict it is given; the ``stage-done`` event carries it.
        """
        start = time.perf_counter()
        told: dict[str, Any] = {}
        try:
            yield told
        finally:
            seconds = round(time.perf_counter() - start + spent, 3)
            self.timings[name] = seconds
        self.progress(ProgressEvent("stage-done", 1, 1, name, {"seconds": seconds, **told}))

    def kept(self, name: str) -> None:
        """Announce that ``name`` was finished by an earlier attempt and is not run again."""
        self.timings.setdefault(name, 0.0)
        self.progress(ProgressEvent("stage-kept", 1, 1, name))
