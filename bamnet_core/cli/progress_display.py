"""The one renderer of library progress events: rich progress bars on stderr.

Each stage gets a line: what it does, a bar (or a spinner while the total is
unknown), done/total, a rate, elapsed time, an ETA once the total is known,
and the stage's own fields (loss and accuracy for training, failures for scoring).
When stderr is not a terminal, rich would draw nothing until the end, so the
events become plain lines instead (:mod:`.progress_lines`): one per epoch.
"""

from __future__ import annotations

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
from .progress_lines import LineProgress

_SHOWN = ("loss", "accuracy", "val_loss", "val_accuracy", "d_loss", "g_loss")


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

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        console = err()
        self.lines = LineProgress(lambda text: console.print(text, highlight=False, markup=False)
                                  ) if enabled and not console.is_terminal else None
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
            self.progress.console.print(
                f"[green]done[/green] {event.description} ({event.fields['seconds']:.1f} s)",
                highlight=False)
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
        if event.stage not in self.tasks:
            self.tasks[event.stage] = self.progress.add_task(
                description, total=event.total, completed=0, info=info)
        self.progress.update(self.tasks[event.stage], completed=event.completed,
                             total=event.total, description=description, info=info)
