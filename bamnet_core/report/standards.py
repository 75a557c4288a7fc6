"""The reporting standards of a run: CLAIM and TRIPOD+AI checklists, the CHAI model card.

:func:`write_standards` writes what ``bamnet report --checklist`` and
``--model-card chai`` ask for into a folder (the run folder, or ``shareable/``
for a redacted record); :func:`checklists_section` is the report's appendix,
both checklists item by item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from .._util import atomic
from ..errors import ConfigError
from ..runs import layout
from .chai_card import chai_card, validate
from .checklists import CHECKLISTS, STATE_WORDS, checklist, fill, summary_line, write_checklist
from .record import RunRecord
from .sections import collapsed, section
from .verdict import Verdict

MODEL_CARDS = ("chai",)
"""The model-card formats ``--model-card`` writes."""


@dataclass
class StandardsFiles:
    """What :func:`write_standards` wrote, and the card's fields left for the author."""

    checklists: dict[str, tuple[Path, Path]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    model_card: Path | None = None
    left_for_author: list[str] = field(default_factory=list)


def check_requests(checklists: Sequence[str], model_card: str | None) -> None:
    """Refuse an unknown checklist or card format before anything is written.

    :raises ConfigError: naming the value and the ones bamnet knows.
    """
    for name in checklists:
        checklist(name)
    if model_card is not None and model_card not in MODEL_CARDS:
        raise ConfigError(f"unknown model card format {model_card!r}",
                          hint=f"use one of: {', '.join(MODEL_CARDS)}")


def write_standards(record: RunRecord, folder: Path, *, checklists: Sequence[str] = (),
                    model_card: str | None = None, redacted: bool = False,
                    verdict: Verdict | None = None) -> StandardsFiles:
    """Write the asked-for checklists and model card of ``record`` into ``folder``.

    Those an earlier ``bamnet report`` wrote there are written again too: they are
    derived from the run's files, so a report rebuilt after ``bamnet resume --from
    evaluate`` must not leave them holding the old numbers.

    :raises ConfigError: an unknown checklist or card format.
    :raises RunError: a card that does not fit its schema (a bug).
    """
    check_requests(checklists, model_card)
    checklists = [*checklists, *(n for n in CHECKLISTS
                                 if (folder / layout.checklist_json(n)).exists())]
    if model_card is None and (folder / layout.MODEL_CARD_CHAI).exists():
        model_card = "chai"
    files = StandardsFiles()
    for name in dict.fromkeys(checklists):
        filled = fill(name, record, redacted=redacted)
        files.checklists[name] = write_checklist(filled, folder)
        files.counts[name] = filled.counts()
    if model_card == "chai":
        card = chai_card(record, verdict)
        validate(card.xml)
        files.model_card = folder / layout.MODEL_CARD_CHAI
        atomic.write_text(files.model_card, card.xml)
        files.left_for_author = card.left_for_author
    return files


def checklists_section(record: RunRecord, *, redacted: bool = False) -> str:
    """The report's appendix: every checklist item, its state and its answer."""
    body = ["<p>Each item of CLAIM 2024 and TRIPOD+AI with what this run answers. "
            "<code>bamnet report RUN --checklist claim</code> (or <code>tripod-ai</code>) "
            "writes them as Markdown and JSON with the file and key of each answer.</p>"]
    for name in CHECKLISTS:
        filled = fill(name, record, redacted=redacted)
        rows = "".join(f"<tr><td>{escape(i.number)}</td><td>{escape(i.title)}</td>"
                       f"<td>{escape(STATE_WORDS[i.state])}</td><td>{escape(i.answer)}</td></tr>"
                       for i in filled.items)
        table = ("<table><tr><th>#</th><th>item</th><th>state</th><th>answer</th></tr>"
                 f"{rows}</table>")
        body.append(collapsed(f"{filled.title}: {summary_line(filled)}", table))
    return section("checklists", "Appendix: reporting checklists", "".join(body))
