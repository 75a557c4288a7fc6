"""The verdict: can this run's headline number be trusted?

Each line of evidence is an :class:`~bamnet_core.contract.EvidenceLine` (what
was measured, its number and interval, the rule it was held to, and what it
means). The core measures some of them itself (:mod:`.verdict_evidence`: the
protocol, the outside-the-lungs baseline, subgroups, the overlap of external data,
under the run's ``[report.verdict]`` rules); every evaluator brings its own on
the headline split, under its own options. The overall reading is a documented
function of all the lines: the worst level among them ("strong" beats "some"
beats "none"). Lines at level "info" say what was not measured, or what an
external evaluation excluded; they never change the reading. "none found" needs
at least one measured line that looks for a shortcut (``shortcut_check``);
without one the reading is "not checked".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.schema import ReportSection
from ..contract.evidence import EvidenceLine
from .headline import headline_numbers
from .record import RunRecord, read_run
from .verdict_evidence import collect_evidence

READINGS = {
    "strong": ("strong shortcut evidence",
               "Do not read the headline number as disease detection: the lines marked "
               "strong show how else it was reached."),
    "some": ("some shortcut evidence",
             "Read the headline number together with the lines marked some."),
    "none": ("none found",
             "These checks found no shortcut; they cannot rule out one they do not test."),
    "unchecked": ("not checked",
                  "No shortcut check ran on the headline split (outside-the-lungs baseline, "
                  "occlusion, source probe, subgroups): nothing here says the number can be "
                  "trusted."),
}


@dataclass
class Verdict:
    """The evidence lines, the overall reading and the headline numbers they qualify."""

    reading: str
    sentence: str
    evidence: list[EvidenceLine] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> str:
        """``strong``, ``some``, ``none`` or ``unchecked``: the worst level among the counted
        lines."""
        return next(k for k, (reading, _) in READINGS.items() if reading == self.reading)

    def to_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON-ready data."""
        return {"reading": self.reading, "level": self.level, "sentence": self.sentence,
                "evidence": [e.model_dump(mode="json") for e in self.evidence],
                "headline": self.headline}

    def text_lines(self) -> list[str]:
        """The verdict as plain text, one line per piece of evidence, the reading last."""
        lines = [f"[{e.level}] {e.label}: {e.finding}. {e.meaning}" for e in self.evidence]
        return [*lines, f"Verdict: {self.reading}. {self.sentence}"]


def report_settings(record: RunRecord) -> ReportSection:
    """The run's ``[report]`` section (defaults for a run made before it existed; the rules
    that moved into evaluators' options are dropped from a run made before they moved).

    :func:`~.record.read_run` validated it, naming a bad key in the run's ``config.toml``.
    """
    return record.config.report


def overall(evidence: list[EvidenceLine]) -> tuple[str, str]:
    """The reading and its sentence: the worst counted level (``info`` never counts); "none
    found" only when at least one line with ``shortcut_check`` was measured, else "not
    checked"."""
    counted = {e.level for e in evidence if e.level != "info"}
    worst = next((level for level in ("strong", "some") if level in counted), "none")
    if worst == "none" and not any(e.shortcut_check and e.level != "info" for e in evidence):
        worst = "unchecked"
    reading, sentence = READINGS[worst]
    drivers = [e.label for e in evidence if e.level == worst and worst != "none"]
    if drivers:
        sentence = f"{sentence} ({'; '.join(drivers)})"
    return reading, sentence


def verdict_of(record: RunRecord) -> Verdict:
    """The verdict of one run folder, under its own ``[report.verdict]`` rules.

    :raises RunError: when the run's ``[report]`` settings are invalid.
    """
    settings = report_settings(record)
    evidence = collect_evidence(record, settings)
    reading, sentence = overall(evidence)
    return Verdict(reading=reading, sentence=sentence, evidence=evidence,
                   headline=headline_numbers(record, settings))


def run_verdict(run_dir: str | Path) -> Verdict | None:
    """The verdict of the run folder ``run_dir``; None when it has no metrics yet.

    :raises RunError: when it is not a run folder, or a file or ``[report]`` is damaged.
    """
    record = read_run(run_dir)
    return verdict_of(record) if record.splits else None
