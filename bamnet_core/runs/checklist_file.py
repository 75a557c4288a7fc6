"""``checklists/<name>.json``: a reporting checklist (CLAIM, TRIPOD+AI) filled from the run.

Each item has its number, a short title, and one of three states: ``answered``
(the run knows the answer; ``evidence`` names the files and keys it comes
from), ``partly-answered`` (what the run knows, and what the author adds) or
``author`` (only the author can answer: a one-line prompt).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .versioned import Part, RunFile

ItemState = Literal["answered", "partly-answered", "author"]


class Evidence(Part):
    """Where an answer comes from: a file of the run folder and a key in it."""

    file: str = Field(description="run-folder-relative file, e.g. metrics.json")
    key: str = Field(description="dotted key in that file, e.g. split.by")


class ChecklistItem(Part):
    """One item of the checklist and what the run says to it."""

    number: str = Field(description="the item's number in the checklist, e.g. 20 or 3a")
    title: str = Field(description="a short title of the item, in bamnet's words")
    state: ItemState = Field(description="answered, partly-answered or author")
    answer: str = Field(description="the answer; for partly-answered what the run knows and "
                        "what the author adds; for author a prompt")
    evidence: list[Evidence] = Field(default_factory=list,
                                     description="the files and keys the answer comes from")


class ChecklistFile(RunFile):
    """``checklists/<name>.json``: every item of one reporting checklist, filled from the run."""

    checklist: str = Field(description="claim or tripod-ai")
    title: str = Field(description="the checklist's full name and version")
    run: str = Field(description="the run folder's name")
    redacted: bool = Field(False, description="made from the shareable (redacted) record")
    items: list[ChecklistItem] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        states: tuple[ItemState, ...] = ("answered", "partly-answered", "author")
        return {s: sum(1 for i in self.items if i.state == s) for s in states}
