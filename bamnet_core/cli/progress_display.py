"""Render library progress events as rich progress bars on stderr."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..progress import ProgressEvent
from .output import err

_SHOWN = ("loss", "accuracy", "val_loss", "val_accuracy")


def _format_fields(fields: dict[str, Any]) -> str:
    parts = [f"{k}={fields[k]:.4f}" for k in _SHOWN if isinstance(fields.get(k), float)]
    return " ".join(parts)


class RichProgress:
    """A progress callback that draws one bar per stage; use as a context manager."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
                        TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=err(),
            disable=not enabled,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.__exit__(exc_type, exc, tb)

    def __call__(self, event: ProgressEvent) -> None:
        """Update (or create) the bar for ``event.stage``."""
        if not self.enabled:
            return
        info = _format_fields(event.fields)
        description = event.description or event.stage
        if event.stage not in self.tasks:
            self.tasks[event.stage] = self.progress.add_task(
                description, total=event.total, completed=event.completed, info=info)
        else:
            self.progress.update(self.tasks[event.stage], completed=event.completed,
                                 total=event.total, description=description, info=info)
