"""The verdict's lines of evidence: the core's own, and those the evaluators brought.

The core measures the protocol (the split and what crossed it), the outside-the-lungs
baseline of the audit, subgroups, and the overlap of external data; one function
each returns its line. Every other line comes from an evaluator, stored with its
results in ``metrics.json`` (:func:`from_evaluators`); the core never reads an
evaluator's results by name. Missing data gives an "info" line that says so,
never a guessed number.
"""

from __future__ import annotations

from ..config.schema import ReportSection, VerdictSection
from ..contract.evidence import EvidenceLine, interval_text, low_end, number_text
from ..data.audit import crossing_text
from ..data.confounding import PURE
from ..runs.metrics_file import Subgroups
from .headline import headline_split
from .record import RunRecord

_f = number_text
_ci = interval_text


def _line(key: str, label: str, level: str, finding: str, meaning: str, rule: str = "",
          value: float | None = None, interval: tuple[float, float] | None = None,
          shortcut_check: bool = True) -> EvidenceLine:
    return EvidenceLine(key=key, label=label, level=level, finding=finding, meaning=meaning,
                        rule=rule, value=value, interval=interval, shortcut_check=shortcut_check)


CONFOUNDED = ("the source predicts the class, so a score on these sources cannot tell disease "
              "from hospital: only a held-out source (bamnet loso) can")


def source_confound(record: RunRecord, rules: VerdictSection) -> tuple[str, str] | None:
    """``(level, finding)`` when the audit found the classes confounded with their sources at
    or above ``rules.confound_share``; None otherwise, and for a run that holds a source out
    (its test source was never trained on: that tests the confound directly).

    The shares are the audit's, over every real image of the data (all splits).
    """
    found = record.audit.confounding if record.audit else None
    if not found or int(found.get("sources") or 0) < 2 or record.config.split.hold_out_source:
        return None
    per_class = found.get("per_class") or {}
    images = sum(int(c.get("images") or 0) for c in per_class.values())
    if per_class and all(float(c.get("single_class_share") or 0) >= 1.0
                         for c in per_class.values()):
        sources = "; ".join(f"{label}: {', '.join(c.get('single_class_sources') or {})}"
                            for label, c in per_class.items())
        return "strong", (f"every class comes only from sources of its own ({sources}; all "
                          f"{images} real images audited)")
    label, worst = max(per_class.items(), key=lambda kv: float(kv[1].get("dominated_share")
                                                                or 0), default=(None, {}))
    share = float(worst.get("dominated_share") or 0)
    if label is None or share < rules.confound_share:
        return None
    return "some", (f"{share:.0%} of the {worst.get('images')} {label!r} images (all splits) "
                    f"come from sources at least {PURE:.0%} {label!r} "
                    f"({', '.join(worst.get('dominated_sources') or {})})")


def _leak_meaning(record: RunRecord, generator_saw: int) -> str:
    """What the leak means: scored on what it trained on, unless every crossing the audit
    counted is between validation and test (then the images that chose the epoch and the
    threshold are scored)."""
    audit = record.audit
    crossings = [*(audit.split.patients_by_splits if audit and audit.split else {}),
                 *(audit.duplicates.straddled if audit and audit.duplicates else {})]
    if record.leaky or generator_saw or not crossings or \
            any("train" in k.split("+") for k in crossings):
        return ("the model was scored on images it, or the same patient, trained on: every "
                "number is optimistic")
    return ("the images, or patients, that chose the epoch and the threshold are scored too: "
            "every number is optimistic")


def protocol(record: RunRecord, rules: VerdictSection | None = None) -> EvidenceLine:
    """Leaky split, patients, duplicates or synthetic images across splits, classes confounded
    with their sources, no test split."""
    rules = rules or VerdictSection()
    audit_split = record.audit.split if record.audit else None
    duplicates = record.audit.duplicates if record.audit else None
    crossing = audit_split.patients_in_several_splits if audit_split else 0
    dupes = duplicates.across_splits if duplicates else 0
    counts = audit_split.counts if audit_split else {}
    generator = record.metrics.generator if record.metrics else None
    generator_saw = generator.fitted_on.held_out_seen if generator else 0
    where = crossing_text(audit_split.patients_by_splits) if audit_split else ""
    problems = []
    if record.leaky:
        problems.append("image-level split: one patient's images can sit in several splits"
                        + (f" ({where})" if where else ""))
    if crossing and not record.leaky:
        problems.append(f"{crossing} patients in several splits"
                        + (f" ({where})" if where else ""))
    if dupes:
        pairs = crossing_text(duplicates.straddled, "pair") if duplicates else ""
        problems.append(f"{dupes} duplicate pairs across splits" + (f" ({pairs})" if pairs
                                                                     else ""))
    if generator_saw:
        problems.append(f"the generator learnt from {generator_saw} validation or test "
                        "images or patients")
    rule = ("strong: a patient or duplicate across splits, or a generator that saw held-out "
            "images (its images stay in training: the generator stage checks that), or every "
            "class only from sources of its own; some: no test split, or a class with at "
            f"least {rules.confound_share:.0%} of its images from sources at least "
            f"{PURE:.0%} that class")
    if problems:
        return _line("protocol", "protocol", "strong", "; ".join(problems),
                     _leak_meaning(record, generator_saw), rule, shortcut_check=False)
    confound = source_confound(record, rules)
    if confound is not None and confound[0] == "strong":
        return _line("protocol", "protocol", "strong", confound[1], CONFOUNDED, rule,
                     shortcut_check=False)
    name, _ = headline_split(record)
    if name != "test" or (counts and "test" not in counts):
        return _line("protocol", "protocol", "some", "no test split",
                     "the headline split also chose the epoch and the threshold: optimistic",
                     rule, shortcut_check=False)
    if confound is not None:
        return _line("protocol", "protocol", "some", confound[1], CONFOUNDED, rule,
                     shortcut_check=False)
    return _line("protocol", "protocol", "none", "patient-grouped split, no duplicate "
                 "across splits", "train, validation and test share no patient", rule,
                 shortcut_check=False)


def baseline(record: RunRecord, rules: VerdictSection) -> EvidenceLine:
    """The outside-the-lungs baseline against the model on the same test images."""
    found = record.metrics.shortcut_baseline if record.metrics else None
    base = found.baseline if found else None
    if found is None or base is None or base.auc is None:
        return _line("baseline", "outside-the-lungs baseline", "info", "not measured",
                     "the outside-the-lungs baseline did not run or lacked a class",
                     value=None)
    auc, model_auc, name = base.auc, found.model_auc, found.name
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
        finding += (f"; model - baseline {diff.value:+.3f}{_ci(diff.interval)} "
                    "(paired, same images)")
    interval = tuple(base.interval) if base.interval else None
    where = "outside the lungs" if found.reads else "over the whole image (lungs included)"
    if low_end(base.interval, auc) < rules.baseline_auc:
        return _line("baseline", name, "none", finding,
                     f"image properties {where} reach {auc:.3f}, but patient resampling does "
                     f"not hold it at or above {rules.baseline_auc:g}" if auc >=
                     rules.baseline_auc else
                     f"image properties {where} do not predict the class well",
                     rule, auc, interval)
    beats = low is not None and low >= rules.baseline_margin
    level = "some" if beats else "strong"
    if found.reads:
        meaning = ("a classifier that reads only outside the lungs already separates the "
                   "classes; yours does better than it" if beats else "a classifier that reads "
                   "only outside the lungs does as well as yours: the score is reachable "
                   "without the lungs")
    else:  # a run from before the baseline read only outside the lungs
        meaning = (f"image properties {where} already separate the classes; yours does "
                   "better" if beats else f"image properties {where} do as well as yours (a "
                   "baseline of an older run: it read the lungs too, so rerun the audit to "
                   "tell a shortcut from the disease)")
    return _line("baseline", name, level, finding, meaning, rule, auc, interval)


def subgroups(record: RunRecord) -> EvidenceLine:
    """Subgroups whose sensitivity, specificity or AUC is significantly below the rest's."""
    groups = record.metrics.subgroups if record.metrics else None
    if not record.config.audit.subgroups:
        return _line("subgroups", "subgroups", "info", "off in the config",
                     "audit.subgroups = false: no group was compared with the rest")
    if groups is None:
        return _line("subgroups", "subgroups", "info", "not measured",
                     "this run's evaluation recorded no subgroup metrics")
    if not groups.by:
        return _line("subgroups", "subgroups", "info", "none measured",
                     f"no attribute (source, view, sex, age) has two groups of at least "
                     f"{groups.min_images or 'enough'} images in the {groups.split} split")
    if groups.test is None:  # a run made before the corrected test
        rule = "some: a group whose accuracy gap to the rest has a 95% interval below 0"
    else:
        rule = (f"some: a group below the rest at p <= 0.05 after correction; test: "
                f"{groups.test} ({groups.tests} tests)")
    if groups.worse:
        return _line("subgroups", "subgroups", "some", _worse_finding(groups),
                     "the model fails a part of the population: the headline averages it away",
                     rule, float(len(groups.worse)))
    return _line("subgroups", "subgroups", "none",
                 f"none worse on the {groups.split} split ({', '.join(groups.by)}; "
                 f"{groups.tests if groups.tests is not None else 'untested'} tests)",
                 "no group does significantly worse than the rest", rule, 0.0)


def _worse_finding(groups: Subgroups) -> str:
    """Each flagged group with the rate that flagged it, its value against the rest's, and
    the corrected p-value, all on the split the subgroups were measured on."""
    parts = []
    for attribute, rows in groups.by.items():
        for row in rows:
            for c in (c for c in row.comparisons if c.worse):
                metric = "ROC AUC" if c.metric == "auc" else c.metric
                parts.append(f"{attribute}={row.group}: {metric} {_f(c.group)} against "
                             f"{_f(c.rest)} ({c.p_shown} corrected, {row.images} images)")
    listed = "; ".join(parts) or ", ".join(groups.worse) + " worse"
    return f"{listed} on the {groups.split} split"


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
    outside-the-lungs baseline, the evaluators' lines, subgroups, the overlap of external
    data, and, when no shortcut check was measured, which evaluators the config lists. A
    check the config switched off says "off in the config"."""
    rules = settings.verdict
    lines = [off_in_config(record, e) for e in (
        protocol(record, rules), baseline(record, rules), *from_evaluators(record),
        subgroups(record), *overlap(record)) if e is not None]
    if not any(e.shortcut_check and e.level != "info" for e in lines):  # why "not checked"
        lines += [e for e in [evaluators_off(record)] if e is not None]
    return lines


def off_in_config(record: RunRecord, line: EvidenceLine) -> EvidenceLine:
    """A core line whose check the config switched off says so, whatever else it found
    missing (the outside-the-lungs baseline: ``[audit] shortcut_baseline``)."""
    if line.key == "baseline" and not record.config.audit.shortcut_baseline:
        return _line("baseline", line.label, "info", "off in the config",
                     "audit.shortcut_baseline = false: no outside-the-lungs baseline was fitted")
    return line


def evaluators_off(record: RunRecord) -> EvidenceLine | None:
    """The evaluators the run's config lists (a run's ``config.toml`` always lists them): a
    check an unlisted evaluator would bring is off in the config, missing rather than passed.
    Shown only when no shortcut check was measured, to say why the run reads "not checked"."""
    listed = record.config.evaluate.evaluators
    if listed is None:
        return None
    return _line("evaluators", "evaluators", "info",
                 f"only {', '.join(listed) or 'none'} (evaluate.evaluators)",
                 "every other evaluator is off in the config: the lines it would draw are "
                 "missing here, not passed", shortcut_check=False)
