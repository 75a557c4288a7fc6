"""The verdict's lines of evidence: the core's own, and those the evaluators brought.

The core measures the protocol (the split and what crossed it), the lung-blind
baseline of the audit, subgroups, and the overlap of external data; one function
each returns its line. Every other line comes from an evaluator, stored with its
results in ``metrics.json`` (:func:`from_evaluators`); the core never reads an
evaluator's results by name. Missing data gives an "info" line that says so,
never a guessed number.
"""

from __future__ import annotations

from ..config.schema import ReportSection, VerdictSection
from ..contract.evidence import EvidenceLine, interval_text, low_end, number_text
from .headline import headline_split
from .record import RunRecord

_f = number_text
_ci = interval_text


def _line(key: str, label: str, level: str, finding: str, meaning: str, rule: str = "",
          value: float | None = None, interval: tuple[float, float] | None = None,
          shortcut_check: bool = True) -> EvidenceLine:
    return EvidenceLine(key=key, label=label, level=level, finding=finding, meaning=meaning,
                        rule=rule, value=value, interval=interval, shortcut_check=shortcut_check)


def protocol(record: RunRecord) -> EvidenceLine:
    """Leaky split, patients, duplicates or synthetic images across splits, no test split."""
    audit_split = record.audit.split if record.audit else None
    duplicates = record.audit.duplicates if record.audit else None
    crossing = audit_split.patients_in_several_splits if audit_split else 0
    dupes = duplicates.across_splits if duplicates else 0
    counts = audit_split.counts if audit_split else {}
    generator = record.metrics.generator if record.metrics else None
    generator_saw = generator.fitted_on.held_out_seen if generator else 0
    problems = []
    if record.leaky:
        problems.append("image-level split: one patient's images sit in training and test")
    if crossing and not record.leaky:
        problems.append(f"{crossing} patients in several splits")
    if dupes:
        problems.append(f"{dupes} duplicate pairs across splits")
    if generator_saw:
        problems.append(f"the generator learnt from {generator_saw} validation or test "
                        "images or patients")
    rule = ("strong: a patient or duplicate across splits, or a generator that saw held-out "
            "images (its images stay in training: the generator stage checks that)")
    if problems:
        return _line("protocol", "protocol", "strong", "; ".join(problems),
                     "the model was scored on images it, or the same patient, trained on: "
                     "every number is optimistic", rule, shortcut_check=False)
    name, _ = headline_split(record)
    if name != "test" or (counts and "test" not in counts):
        return _line("protocol", "protocol", "some", "no test split",
                     "the headline split also chose the epoch and the threshold: optimistic",
                     rule, shortcut_check=False)
    return _line("protocol", "protocol", "none", "patient-grouped split, no duplicate "
                 "across splits", "train, validation and test share no patient", rule,
                 shortcut_check=False)


def baseline(record: RunRecord, rules: VerdictSection) -> EvidenceLine:
    """The lung-blind baseline against the model on the same test images."""
    found = record.metrics.shortcut_baseline if record.metrics else None
    base = found.baseline if found else None
    if found is None or base is None or base.auc is None:
        return _line("baseline", "lung-blind baseline", "info", "not measured",
                     "the image-property baseline did not run or lacked a class",
                     value=None)
    auc, model_auc = base.auc, found.model_auc
    diff = base.difference
    low = diff.interval[0] if diff and diff.interval else None
    if low is None and found.model_interval:
        low = found.model_interval[0] - auc  # a run without the paired interval
    rule = (f"some: baseline AUC (low end) >= {rules.baseline_auc:g}; strong: besides, the "
            "model's lead "
            f"(low end of its paired interval) < {rules.baseline_margin:g}")
    finding = (f"baseline AUC {_f(auc)}{_ci(base.interval)}, model {_f(model_auc)}"
               f"{_ci(found.model_interval)}")
    if diff and diff.value is not None:
        finding += (f"; model - baseline {diff.value:+.2f}{_ci(diff.interval)} "
                    "(paired, same images)")
    interval = tuple(base.interval) if base.interval else None
    if low_end(base.interval, auc) < rules.baseline_auc:
        return _line("baseline", "lung-blind baseline", "none", finding,
                     f"image properties alone reach {auc:.2f}, but patient resampling does "
                     f"not hold it at or above {rules.baseline_auc:g}" if auc >=
                     rules.baseline_auc else
                     "image properties alone do not predict the class well",
                     rule, auc, interval)
    beats = low is not None and low >= rules.baseline_margin
    level = "some" if beats else "strong"
    meaning = ("a model that never sees the lungs already separates the classes; yours does "
               "better than it" if beats else "a model that never sees the lungs does as well "
               "as yours: the score is reachable without the lungs")
    return _line("baseline", "lung-blind baseline", level, finding, meaning, rule, auc,
                 interval)


def subgroups(record: RunRecord) -> EvidenceLine:
    """Subgroups that do significantly worse than the rest."""
    groups = record.metrics.subgroups if record.metrics else None
    if groups is None or not groups.by:
        return _line("subgroups", "subgroups", "info", "none measured",
                     "no attribute (source, view, sex, age) has two groups with enough images")
    rule = "some: a group whose accuracy gap to the rest has a 95% interval below 0"
    if groups.worse:
        return _line("subgroups", "subgroups", "some", ", ".join(groups.worse) + " worse",
                     "the model fails a part of the population: the headline averages it away",
                     rule, float(len(groups.worse)))
    return _line("subgroups", "subgroups", "none",
                 f"none worse ({', '.join(groups.by)})",
                 "no group does significantly worse than the rest", rule, 0.0)


def overlap(record: RunRecord) -> list[EvidenceLine]:
    """What each ``bamnet evaluate`` found it shared with the run, and what it kept."""
    out = []
    for name, metrics in record.external.items():
        found = metrics.overlap
        if found is None:
            continue
        if any(d.startswith("copy") for d in found.disjoint_by):
            finding = (f"{found.sentence}; {found.kept} of {found.images} are neither"
                       if found.excluded else f"none of the {found.images} images is the "
                       "run's or of its patients")
            meaning = f"metrics on {name} use only the {found.kept} images that are neither"
            if found.run_images_unread:
                finding += (f"; {found.run_images_unread} of the run's images could not be "
                            "read, so copies of them were not sought")
        elif found.disjoint_by:  # recorded before copies and patients were told apart
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(found.by_kind.items()))
            finding = (f"{found.excluded} of {found.images} images are the run's or of its "
                       f"patients ({kinds or 'how: not recorded'}); {found.kept} kept")
            meaning = f"metrics on {name} use only the {found.kept} other images"
        else:  # a record that did not prove the data external
            finding = (f"{found.excluded} of {found.images} images seen by the run "
                       f"({found.sentence}); {found.kept} kept")
            meaning = f"metrics on {name} use only the {found.kept} other images"
        out.append(_line(f"overlap-{name}", f"overlap of {name}", "info", finding, meaning,
                         shortcut_check=False))
    return out


def from_evaluators(record: RunRecord) -> list[EvidenceLine]:
    """The lines every evaluator brought on the headline split, in configured order."""
    _, results = headline_split(record)
    return [line for lines in (results.evidence.values() if results else ()) for line in lines]


def collect_evidence(record: RunRecord, settings: ReportSection) -> list[EvidenceLine]:
    """Every line of the verdict, in the order the report shows them: the protocol, the
    lung-blind baseline, the evaluators' lines, subgroups, and the overlap of external data."""
    rules = settings.verdict
    lines = [protocol(record), baseline(record, rules), *from_evaluators(record),
             subgroups(record), *overlap(record)]
    return [e for e in lines if e is not None]
