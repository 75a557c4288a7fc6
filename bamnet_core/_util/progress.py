"""Progress events from library code, rendered by whoever is listening.

The library never prints. Long operations call a :data:`ProgressCallback`
with :class:`ProgressEvent` objects; the CLI renders them with rich, tests
collect them, and ``--json`` passes :func:`silent`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a long operation.

    :param stage: a stable identifier (``"decode"``, ``"train"``, ``"evaluate"``).
    :param completed: units done so far in this stage.
    :param total: units in the stage, if known.
    :param description: human text for the current step.
    :param fields: extra values to show (``epoch``, ``loss``, ...).
    """

    stage: str
    completed: int
    total: int | None = None
    description: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


ProgressCallback = Callable[[ProgressEvent], None]


def silent(event: ProgressEvent) -> None:
    """A progress callback that ignores every event."""
