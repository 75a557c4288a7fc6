"""Reporting checklists filled from a run: CLAIM 2024 and TRIPOD+AI.

Each checklist is data (:mod:`.claim`, :mod:`.tripod_ai`): numbered items with a
short title and a rule that answers it from the run record. :func:`fill` applies
the rules; :func:`markdown` renders the result; :func:`write_checklist` writes
``checklists/<name>.md`` and ``checklists/<name>.json`` into a folder.
"""

from __future__ import annotations

from pathlib import Path

from ..._util import atomic
from ...errors import ConfigError
from ...runs import layout
from ...runs.checklist_file import ChecklistFile, ChecklistItem
from ...runs.folder import RunFolder
from ..record import RunRecord
from .claim import CLAIM
from .items import Checklist, Facts
from .tripod_ai import TRIPOD_AI

CHECKLISTS: dict[str, Checklist] = {c.name: c for c in (CLAIM, TRIPOD_AI)}
"""Checklist name (as ``--checklist`` takes it) -> the checklist."""

STATE_WORDS = {"answered": "answered by the run", "partly-answered": "partly answered",
               "author": "for the author"}


def checklist(name: str) -> Checklist:
    """The checklist called ``name``.

    :raises ConfigError: for a name bamnet does not know, naming the ones it does.
    """
    if name not in CHECKLISTS:
        raise ConfigError(f"unknown checklist {name!r}",
                          hint=f"use one of: {', '.join(CHECKLISTS)}")
    return CHECKLISTS[name]


def fill(name: str, record: RunRecord, *, redacted: bool = False) -> ChecklistFile:
    """Every item of checklist ``name``, answered from ``record`` as far as the run can."""
    facts = Facts.of(record)
    items = []
    for item in checklist(name).items:
        answer = item.rule(facts)
        items.append(ChecklistItem(number=item.number, title=item.title, state=answer.state,
                                   answer=answer.text, evidence=list(answer.evidence)))
    return ChecklistFile(checklist=name, title=checklist(name).title, run=record.name,
                         redacted=redacted, items=items)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_line(filled: ChecklistFile) -> str:
    """``30 answered by the run, 8 partly answered, 6 for the author``."""
    return ", ".join(f"{n} {STATE_WORDS[s]}" for s, n in filled.counts().items())


def markdown(filled: ChecklistFile) -> str:
    """The filled checklist as a Markdown table, its counts first."""
    lines = [f"# {filled.title}: run {filled.run}", "",
             f"Filled from the run folder by bamnet: {summary_line(filled)}. Item titles "
             "are short paraphrases; read the published checklist for each item's wording. "
             "Evidence names a file of the run folder and a key in it.", "",
             "| # | item | state | answer | evidence |", "|---|---|---|---|---|"]
    for item in filled.items:
        evidence = "; ".join(f"`{e.file}` `{e.key}`" for e in item.evidence)
        lines.append(f"| {item.number} | {_cell(item.title)} | {STATE_WORDS[item.state]} | "
                     f"{_cell(item.answer)} | {evidence} |")
    return "\n".join(lines) + "\n"


def write_checklist(filled: ChecklistFile, folder: Path) -> tuple[Path, Path]:
    """Write ``checklists/<name>.md`` and ``.json`` into ``folder``; returns both paths."""
    md = folder / layout.checklist_md(filled.checklist)
    atomic.write_text(md, markdown(filled))
    return md, RunFolder(folder).write_model(layout.checklist_json(filled.checklist), filled)


__all__ = ["CHECKLISTS", "checklist", "fill", "markdown", "summary_line", "write_checklist"]
