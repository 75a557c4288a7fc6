"""The one renderer of library progress events: rich bars on a terminal, plain lines elsewhere.

On a terminal (:class:`RichProgress`) each stage gets a line: what it does, a bar
(or a spinner while the total is unknown), done/total, a rate, elapsed time, an
ETA once the total is known, and the stage's own fields (loss and accuracy for
training, failures for scoring).

Redirected (a log file, CI, ``nohup``), rich would draw nothing until the end
and a 50-epoch run would look hung for an hour, so events become plain lines
(:class:`LineProgress`): every training epoch; every ``N``-th GAN epoch (about 20
lines in all, and the first and last); other stages, once they have run
:data:`QUIET_S` seconds (a quick one shows only its ``done`` line), at each
quarter of their total, or every :data:`QUIET_S` seconds when the total is
unknown. Each line names its stage and carries the elapsed time and, once known,
an ETA.

Both count from the start of the stage's current pass (:class:`StagePasses`): a
stage that runs again later in the same process (the run's ``decode val``, then
the export's) starts its clock again, so its elapsed time and ETA are its own,
not the run's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from .._util.progress import ProgressEvent
from .._util.text import one_line
from .output import err

QUIET_S = 10.0  # at most one line this often for a stage without a known total
GAN_LINES = 20  # about this many lines for a whole GAN fit
_SHOWN = ("loss", "accuracy", "val_loss", "val_accuracy", "d_loss", "g_loss")


def gan_every(epochs: int) -> int:
    """Print every this many GAN epochs: about :data:`GAN_LINES` lines, a round number."""
    step = max(1, math.ceil(epochs / GAN_LINES))
    for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if nice >= step:
            return nice
    return step


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"{rest // 60}:{rest % 60:02d}"


def _fields(fields: dict[str, Any]) -> str:
    return " ".join(f"{k}={fields[k]:.4f}" for k in _SHOWN if isinstance(fields.get(k), float))


class StagePasses:
    """When each stage's current pass began.

    A stage's events count up; an event that counts less than the last one, or
    whose known total differs from the last known total, begins a new pass of
    that stage (the same work again, later: the export's ``decode val`` after the
    run's, the next split's ``evaluate``). A total that becomes known while the
    stage runs (scoring, once discovery ends) continues the pass.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.began: dict[str, float] = {}
        self.last: dict[str, tuple[int, int | None]] = {}

    def begins(self, event: ProgressEvent) -> bool:
        """Record ``event``; True when it begins a pass of its stage (the first one too)."""
        previous = self.last.get(event.stage)
        self.last[event.stage] = (event.completed, event.total)
        if previous is not None:
            done, total = previous
            if event.completed >= done and (total is None or event.total is None
                                            or event.total == total):
                return False
        self.began[event.stage] = self.clock()
        return True

    def elapsed(self, stage: str) -> float:
        """Seconds since the current pass of ``stage`` began."""
        return self.clock() - self.began[stage]


class LineProgress:
    """A progress callback writing one plain line per epoch or milestone through ``write``."""

    def __init__(self, write: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write = write
        self.clock = clock
        self.passes = StagePasses(clock)
        self.last_line: dict[str, float] = {}
        self.shown: dict[str, Any] = {}

    def __call__(self, event: ProgressEvent) -> None:
        """Write a line for ``event`` when it is an epoch end or a milestone."""
        if event.stage in ("stage-done", "stage-kept"):
            return  # the renderer prints those itself
        if self.passes.begins(event):  # a new pass: its own lines, from its own start
            self.shown.pop(event.stage, None)
            self.last_line.pop(event.stage, None)
        now = self.clock()
        elapsed = self.passes.elapsed(event.stage)
        mark = self._milestone(event, now, elapsed)
        if mark is None or self.shown.get(event.stage) == mark:
            return
        self.shown[event.stage] = mark
        self.last_line[event.stage] = now
        text = event.description or event.stage
        if not text.startswith(event.stage):
            text = f"{event.stage}: {text}"
        if event.total:
            text += f" [{event.completed:,}/{event.total:,}]"
        elif event.completed:
            text += f" [{event.completed:,}]"
        extra = _fields(event.fields)
        if extra:
            text += f" {extra}"
        text += f" elapsed {_duration(elapsed)}"
        if event.total and 0 < event.completed < event.total:
            text += f" ETA {_duration(elapsed / event.completed * (event.total - event.completed))}"
        self.write(text)

    def _milestone(self, event: ProgressEvent, now: float, elapsed: float) -> Any:
        """A key for the line this event earns (one line per key), or None for no line."""
        fields = event.fields
        if event.stage == "train" and "epoch" in fields and "steps" in fields:
            return ("epoch", fields["epoch"]) if fields.get("step") == fields["steps"] else None
        if event.stage == "generator" and "epoch" in fields and event.total:
            epochs = int(fields.get("epochs") or 1)
            steps = max(1, event.total // epochs)
            epoch = int(fields["epoch"])
            if event.completed != epoch * steps:  # not the epoch's last batch
                return None
            every = gan_every(epochs)
            return ("epoch", epoch) if epoch == 1 or epoch % every == 0 or epoch == epochs \
                else None
        if elapsed < QUIET_S:
            return None
        if event.total:
            quarter = 4 * event.completed // event.total
            return ("quarter", quarter) if event.completed == event.total or \
                quarter != (self.shown.get(event.stage) or ("", -1))[1] else None
        if now - self.last_line.get(event.stage, -math.inf) >= QUIET_S:
            return ("time", now)
        return None



def _format_fields(fields: dict[str, Any]) -> str:
    parts = [f"{k}={fields[k]:.4f}" for k in _SHOWN if isinstance(fields.get(k), float)]
    if fields.get("failed"):
        parts.append(f"{fields['failed']} failed")
    if fields.get("provider"):
        parts.append(f"on {fields['provider']}")
    return " ".join(parts)


class CountColumn(ProgressColumn):
    """``done/total``, or ``done`` while the total is unknown."""

    def render(self, task: Task) -> Text:
        """The count text."""
        done = int(task.completed)
        return Text(f"{done:,}/{int(task.total):,}" if task.total is not None else f"{done:,}")


class RateColumn(ProgressColumn):
    """Units per second, from rich's moving estimate."""

    def render(self, task: Task) -> Text:
        """The rate text."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "")


class RichProgress:
    """A progress callback that draws one line per stage; use as a context manager."""

    def __init__(self, *, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        console = err()
        self.lines = LineProgress(lambda text: console.print(text, highlight=False, markup=False),
                                  clock) if enabled and not console.is_terminal else None
        self.passes = StagePasses(clock)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            CountColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
            disable=not enabled or self.lines is not None,
            get_time=clock,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.__exit__(exc_type, exc, tb)

    def __call__(self, event: ProgressEvent) -> None:
        """Update (or create) the line for ``event.stage``."""
        if event.stage == "notice":  # shown with --json too: it is on stderr
            text = escape(one_line(event.description))
            self.progress.console.print(f"[cyan]Notice:[/cyan] {text}", highlight=False)
            return
        if not self.enabled:
            return
        if event.stage == "stage-done":  # one line per finished stage, above the bars
            note = event.fields.get("note")
            made = f": {escape(one_line(note))}" if note else ""
            self.progress.console.print(
                f"[green]done[/green] {event.description}{made} "
                f"({event.fields['seconds']:.1f} s)", highlight=False)
            return
        if event.stage == "stage-kept":
            self.progress.console.print(
                f"[cyan]kept[/cyan] {event.description} (finished by an earlier attempt)",
                highlight=False)
            return
        if self.lines is not None:
            self.lines(event)
            return
        info = _format_fields(event.fields)
        description = event.description or event.stage
        if self.passes.begins(event) and event.stage in self.tasks:
            # the stage runs again: its bar, rate, elapsed time and ETA start again
            self.progress.reset(self.tasks[event.stage], total=event.total, completed=0,
                                description=description, info=info)
        if event.stage not in self.tasks:
            self.tasks[event.stage] = self.progress.add_task(
                description, total=event.total, completed=0, info=info)
        self.progress.update(self.tasks[event.stage], completed=event.completed,
                             total=event.total, description=description, info=info)
