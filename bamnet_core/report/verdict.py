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

Two readings come before any shortcut reading, because without them the lines
have nothing to explain:

- **too few images to conclude**: the headline split holds fewer images of a class
  than ``[report] min_positives`` / ``min_negatives`` (the support rule of
  :mod:`.support`, the same one every number is shown under);
- **the model did not learn**: the low end of the 95% patient-bootstrap interval of
  the headline ROC-AUC is at or below ``[report.verdict] learned_auc`` (0.5: the
  interval reaches chance; the AUC itself where no interval was measured). It is
  decided from the AUC, never from the counts at one threshold: a miscalibrated
  model that calls every image one class at 0.5 can still rank them well.

Under either, the shortcut lines are kept for their numbers but not counted: they
become "info" and say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.schema import ReportSection
from ..contract.evidence import EvidenceLine, interval_text, number_text
from .headline import headline_numbers, headline_split
from .record import RunRecord, read_run
from .support import split_support
from .verdict_evidence import collect_evidence

READINGS = {
    "strong": ("strong shortcut evidence",
               "Do not read the headline number as disease detection: the lines marked "
               "strong show how else it was reached."),
    "some": ("some shortcut evidence",
             "Read the headline number together with the lines marked some."),
    "none": ("none found",
             "These checks found no shortcut; they cannot rule out one they do not test."),
    "too-few": ("too few images to conclude",
                "The headline split is too small for any of these numbers to carry a "
                "conclusion: evaluate on more images of each class."),
    "unlearned": ("the model did not learn",
                  "Its ROC-AUC on the headline split cannot be told from chance, so there is no "
                  "score to explain: the shortcut lines (baseline, occlusion, probes) are not "
                  "read as evidence for or against a shortcut, and this is not shortcut "
                  "evidence. Check the data, the labels and the training before reading any "
                  "line."),
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
        """``too-few``, ``unlearned``, or ``strong``, ``some``, ``none`` or ``unchecked``: the
        worst level among the counted lines."""
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


def too_small(record: RunRecord, settings: ReportSection) -> str | None:
    """Why the headline split is too small to conclude (:func:`.support.split_support`),
    or None."""
    name, results = headline_split(record)
    counts = results.headline.counts if results and results.headline else None
    if counts is None:
        return None
    return split_support(counts.positives, counts.negatives, name, settings)


def learning(record: RunRecord, settings: ReportSection) -> EvidenceLine | None:
    """The line that says whether the model learned: its headline ROC-AUC and interval
    against ``[report.verdict] learned_auc`` (None when the split has no ROC-AUC).

    The line is "info" (it never counts as shortcut evidence); its ``value`` is the
    AUC and the reading is decided by :func:`did_not_learn`.
    """
    name, results = headline_split(record)
    auc = results.headline.get("roc_auc") if results and results.headline else None
    if auc is None or auc.value is None:
        return None
    chance = settings.verdict.learned_auc
    low = auc.low if auc.low is not None else auc.value
    images = f" on {results.images} {name} images" if results and results.images else ""
    finding = f"ROC AUC {number_text(auc.value)}{interval_text(auc.interval)}{images}"
    rule = (f"did not learn: the low end of the ROC-AUC interval (patients resampled) at or "
            f"below {chance:g}; never decided from the counts at one threshold")
    if low <= chance:
        meaning = ("its interval reaches chance: the model did not learn to separate the "
                   "classes" if auc.value > chance else
                   "no better than chance: the model did not learn to separate the classes")
    else:
        meaning = "its interval stays above chance: the model separates the classes"
    return EvidenceLine(key="learned", label="did the model learn", level="info",
                        finding=finding, meaning=meaning, rule=rule, value=auc.value,
                        interval=auc.interval, shortcut_check=False)


def did_not_learn(line: EvidenceLine | None, settings: ReportSection) -> bool:
    """Whether the learning line says the model did not learn."""
    if line is None or line.value is None:
        return False
    low = line.interval[0] if line.interval else line.value
    return low <= settings.verdict.learned_auc


# What a baseline that separates the classes means when the model did not learn: a fact
# about the data, not about this model's score.
DATA_SHORTCUT = ("the data carry a shortcut this model did not learn: image properties alone "
                 "separate the classes, and a model that learns may take it")


# Lines judged on counts of their own, under their own support rule, about images other
# than the headline's rates: a held-out source's rates (``bamnet loso``, whose test split
# is one source and often one class) are read even where the headline split is too small
# for a ROC-AUC or cannot be told from chance.
OWN_SUPPORT = frozenset({"loso"})


def set_aside(evidence: list[EvidenceLine], why: str) -> list[EvidenceLine]:
    """The lines with every counted one turned into "info" that says ``why`` it is not
    read (its numbers kept, its meaning replaced: it would explain a score there is
    not); the lines of :data:`OWN_SUPPORT` keep their level."""
    out = []
    for e in evidence:
        if e.level != "info" and e.shortcut_check and e.key not in OWN_SUPPORT:
            e = e.model_copy(update={"level": "info", "meaning": f"not read: {why}"})
        out.append(e)
    return out


def verdict_of(record: RunRecord) -> Verdict:
    """The verdict of one run folder, under its own ``[report.verdict]`` rules.

    :raises RunError: when the run's ``[report]`` settings are invalid.
    """
    settings = report_settings(record)
    evidence = collect_evidence(record, settings)
    learned = learning(record, settings)
    short = too_small(record, settings)
    headline = headline_numbers(record, settings)
    own = [e for e in evidence if e.key in OWN_SUPPORT and e.level in ("strong", "some")]
    if short and own:  # a held-out source's failure is evidence on its own counts
        reading, sentence = overall(own)
        sentence = f"{sentence} The headline split itself is too small to conclude ({short})."
        evidence = set_aside(evidence, f"too few images to conclude ({short})")
    elif short:
        reading, sentence = READINGS["too-few"]
        sentence = f"{sentence} ({short})"
        evidence = set_aside(evidence, f"too few images to conclude ({short})")
    elif did_not_learn(learned, settings):
        reading, sentence = READINGS["unlearned"]
        data_shortcut = any(e.key == "baseline" and e.level in ("strong", "some")
                            for e in evidence)
        evidence = [e.model_copy(update={"level": "info", "meaning": DATA_SHORTCUT})
                    if data_shortcut and e.key == "baseline" else e
                    for e in set_aside(evidence, "the model did not learn, so there is no "
                                                 "separation for this line to explain")]
        if data_shortcut:
            sentence = f"{sentence} {DATA_SHORTCUT[0].upper()}{DATA_SHORTCUT[1:]}."
    else:
        reading, sentence = overall(evidence)
    if learned is not None and short:  # its number only with the mark the headline gives it
        shown = headline["metrics"].get("ROC AUC", {}).get("shown", "too few")
        learned = learned.model_copy(update={
            "finding": f"ROC AUC {shown}", "meaning": f"too few images to conclude ({short})",
            "value": None, "interval": None})
    if learned is not None:
        evidence = [evidence[0], learned, *evidence[1:]] if evidence else [learned]
    return Verdict(reading=reading, sentence=sentence, evidence=evidence,
                   headline=headline)


def run_verdict(run_dir: str | Path) -> Verdict | None:
    """The verdict of the run folder ``run_dir``; None when it has no metrics yet.

    :raises RunError: when it is not a run folder, or a file or ``[report]`` is damaged.
    """
    record = read_run(run_dir)
    return verdict_of(record) if record.splits else None
