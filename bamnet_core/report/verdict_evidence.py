"""The verdict's lines of evidence, one function each, from a run record and its rules.

Every function returns an :class:`~.verdict.Evidence` (or None when the run
has nothing of that kind); missing data gives an "info" line that says so,
never a guessed number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config.schema import ReportSection, VerdictSection
from ..data.exact_intervals import wilson
from .headline import headline_split
from .record import RunRecord


@dataclass(frozen=True)
class Evidence:
    """One line of the verdict.

    :param key: a stable id (``protocol``, ``baseline``, ``occlusion``, ...).
    :param label: what was checked, in words.
    :param level: ``strong``, ``some``, ``none`` or ``info`` (not counted).
    :param finding: the number as shown, with its interval (``"0.99 [0.97, 1.00]"``).
    :param meaning: one sentence: what the number says about the headline.
    :param rule: the threshold it was held to.
    :param value: the number itself, for ``--json`` (None where there is none).
    :param interval: its 95% interval, or None.
    """

    key: str
    label: str
    level: str
    finding: str
    meaning: str
    rule: str = ""
    value: float | None = None
    interval: tuple[float, float] | None = None


def _f(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ci(interval: Any) -> str:
    if isinstance(interval, dict) and "low" in interval:
        interval = (interval["low"], interval["high"])
    if isinstance(interval, (list, tuple)) and len(interval) == 2 and None not in interval:
        return f" [{interval[0]:.2f}, {interval[1]:.2f}]"
    return ""


def _low(interval: Any, value: float) -> float:
    """The low end of a 95% interval (the value itself for a run that recorded none).

    A line counts as evidence only where patient resampling cannot explain it.
    """
    if isinstance(interval, (list, tuple)) and len(interval) == 2 and interval[0] is not None:
        return float(interval[0])
    return value


def protocol(record: RunRecord) -> Evidence:
    """Leaky split, patients, duplicates or synthetic images across splits, no test split."""
    audit_split = record.audit.get("split") or {}
    crossing = int(audit_split.get("patients_in_several_splits") or 0)
    dupes = int((record.audit.get("duplicates") or {}).get("across_splits") or 0)
    counts = audit_split.get("counts") or {}
    fitted = (record.metrics.get("generator") or {}).get("fitted_on") or {}
    generator_saw = int(fitted.get("held_out_images_seen") or 0) + \
        int(fitted.get("held_out_patients_seen") or 0)
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
        return Evidence("protocol", "protocol", "strong", "; ".join(problems),
                        "the model was scored on images it, or the same patient, trained on: "
                        "every number is optimistic", rule)
    name, _ = headline_split(record)
    if name != "test" or (counts and "test" not in counts):
        return Evidence("protocol", "protocol", "some", "no test split",
                        "the headline split also chose the epoch and the threshold: optimistic",
                        rule)
    return Evidence("protocol", "protocol", "none", "patient-grouped split, no duplicate "
                    "across splits", "train, validation and test share no patient", rule)


def degenerate(record: RunRecord) -> Evidence | None:
    """A model that calls every headline image one class."""
    name, results = headline_split(record)
    counts = (results.get("classification") or {}).get("counts")
    if not counts:
        return None
    called_pos, called_neg = counts["tp"] + counts["fp"], counts["tn"] + counts["fn"]
    if called_pos and called_neg:
        return None
    which = "positive" if called_pos else "negative"
    return Evidence("model", "degenerate model", "strong",
                    f"calls all {called_pos + called_neg} {name} images {which}",
                    "the model did not learn to separate the classes; its rates are those of "
                    "a constant", "strong: one class predicted for every image")


def baseline(record: RunRecord, rules: VerdictSection) -> Evidence:
    """The lung-blind baseline against the model on the same test images."""
    found = record.metrics.get("shortcut_baseline") or {}
    base = found.get("baseline") or {}
    if not isinstance(base, dict) or base.get("auc") is None:
        return Evidence("baseline", "lung-blind baseline", "info", "not measured",
                        "the image-property baseline did not run or lacked a class",
                        value=None)
    auc, model_auc = float(base["auc"]), found.get("model_auc")
    diff = base.get("difference") or {}
    low = (diff.get("interval") or [None, None])[0]
    if low is None and isinstance(found.get("model_interval"), (list, tuple)):
        low = found["model_interval"][0] - auc  # a run without the paired interval
    rule = (f"some: baseline AUC (low end) >= {rules.baseline_auc:g}; strong: besides, the "
            "model's lead "
            f"(low end of its paired interval) < {rules.baseline_margin:g}")
    finding = (f"baseline AUC {_f(auc)}{_ci(base.get('interval'))}, model {_f(model_auc)}"
               f"{_ci(found.get('model_interval'))}")
    if diff.get("value") is not None:
        finding += (f"; model - baseline {diff['value']:+.2f}{_ci(diff.get('interval'))} "
                    "(paired, same images)")
    if _low(base.get("interval"), auc) < rules.baseline_auc:
        return Evidence("baseline", "lung-blind baseline", "none", finding,
                        f"image properties alone reach {auc:.2f}, but patient resampling does "
                        f"not hold it at or above {rules.baseline_auc:g}" if auc >=
                        rules.baseline_auc else
                        "image properties alone do not predict the class well",
                        rule, auc, tuple(base["interval"]) if base.get("interval") else None)
    beats = low is not None and low >= rules.baseline_margin
    level = "some" if beats else "strong"
    meaning = ("a model that never sees the lungs already separates the classes; yours does "
               "better than it" if beats else "a model that never sees the lungs does as well "
               "as yours: the score is reachable without the lungs")
    return Evidence("baseline", "lung-blind baseline", level, finding, meaning, rule, auc,
                    tuple(base["interval"]) if base.get("interval") else None)


def occlusion(record: RunRecord, rules: VerdictSection) -> Evidence:
    """The model's AUC with the lung fields masked."""
    _, results = headline_split(record)
    occ = results.get("occlusion")
    if not isinstance(occ, dict) or occ.get("auc_masked") is None:
        return Evidence("occlusion", "lungs masked", "info", "not measured",
                        "the occlusion evaluator did not run on the headline split")
    masked, full = float(occ["auc_masked"]), occ.get("auc_full")
    drop = occ.get("drop_interval")
    finding = f"ROC AUC {_f(full)} → {_f(masked)}{_ci(occ.get('masked_interval'))}"
    if full is not None:
        finding += f"; drop {full - masked:+.2f}{_ci(drop)}"
    low = _low(occ.get("masked_interval"), masked)
    kept = (masked - 0.5) / (full - 0.5) if full is not None and full > 0.55 else 0.0
    if full is not None and full > 0.55:
        finding += f"; {max(kept, 0.0):.0%} of its separation kept"
    rule = (f"some: masked AUC (low end) >= {rules.occlusion_some:g}, or above chance with "
            f">= {rules.occlusion_kept:.0%} of the separation kept; strong: masked AUC (low "
            f"end) >= {rules.occlusion_strong:g}")
    level = "strong" if low >= rules.occlusion_strong else "some" \
        if low >= rules.occlusion_some or (low > 0.5 and kept >= rules.occlusion_kept) \
        else "none"
    meaning = {"strong": "with the lungs hidden it still separates the classes: it reads "
                         "something else",
               "some": "with the lungs hidden it keeps much of its separation: part of what "
                       "it reads is outside the lungs",
               "none": "with the lungs hidden it loses most of its separation: what it "
                       "reads is mostly in the lungs"}[level]
    return Evidence("occlusion", "lungs masked", level, finding, meaning, rule, masked,
                    tuple(occ["masked_interval"]) if occ.get("masked_interval") else None)


def source_probe(record: RunRecord, rules: VerdictSection) -> Evidence:
    """A linear probe for the source on the model's features, within each class."""
    _, results = headline_split(record)
    probe = results.get("source-probe")
    if not isinstance(probe, dict) or not probe.get("within_class"):
        note = probe.get("note") if isinstance(probe, dict) else None
        return Evidence("source-probe", "source probe", "info", "not measured",
                        note or "fewer than two sources within a class: nothing to probe")
    best = None
    for cls, entry in probe["within_class"].items():
        n, acc, chance = int(entry["images"]), float(entry["accuracy"]), float(entry["chance"])
        low, high = wilson(round(acc * n), n) or (acc, acc)
        if best is None or low - chance > best[0]:
            best = (low - chance, cls, acc, chance, (low, high), n)
    margin, cls, acc, chance, interval, n = best  # type: ignore[misc]
    rule = f"some: within-class accuracy above chance by >= {rules.probe_margin:g} (low end)"
    finding = (f"{cls} images: accuracy {_f(acc)}{_ci(interval)} (Wilson, n = {n}) against "
               f"chance {_f(chance)}")
    if margin >= rules.probe_margin:
        return Evidence("source-probe", "source probe", "some", finding,
                        "the model's features tell the hospitals apart within one class",
                        rule, acc, interval)
    return Evidence("source-probe", "source probe", "none", finding,
                    "the features do not tell the sources apart beyond chance", rule, acc,
                    interval)


def loso(record: RunRecord, rules: VerdictSection) -> Evidence | None:
    """Leave-one-source-out, when it was run."""
    _, results = headline_split(record)
    held = (results.get("per-source") or {}).get("held_out") \
        if isinstance(results.get("per-source"), dict) else None
    if not held:
        return None
    low = [(src, k, e[k]) for src, e in held.items() for k in ("sensitivity", "specificity")
           if isinstance(e.get(k), (int, float)) and e[k] < rules.loso_floor]
    finding = "; ".join(f"{src}: sens {_f(e.get('sensitivity'))}, spec "
                        f"{_f(e.get('specificity'))}" for src, e in held.items())
    rule = f"some: a held-out source's sensitivity or specificity < {rules.loso_floor:g}"
    if low:
        return Evidence("loso", "leave one source out", "some", finding,
                        "on a source it never saw, the model fails: it learned the sources",
                        rule)
    return Evidence("loso", "leave one source out", "none", finding,
                    "the model holds up on sources it never saw", rule)


def subgroups(record: RunRecord) -> Evidence:
    """Subgroups that do significantly worse than the rest."""
    groups = record.metrics.get("subgroups")
    if not isinstance(groups, dict) or not groups.get("by"):
        return Evidence("subgroups", "subgroups", "info", "none measured",
                        "no attribute (source, view, sex, age) has two groups with enough images")
    worse = list(groups.get("worse") or [])
    rule = "some: a group whose accuracy gap to the rest has a 95% interval below 0"
    if worse:
        return Evidence("subgroups", "subgroups", "some", ", ".join(worse) + " worse",
                        "the model fails a part of the population: the headline averages it away",
                        rule, float(len(worse)))
    return Evidence("subgroups", "subgroups", "none",
                    f"none worse ({', '.join(groups['by'])})",
                    "no group does significantly worse than the rest", rule, 0.0)


def overlap(record: RunRecord) -> list[Evidence]:
    """What each ``bamnet evaluate`` found it shared with the run, and what it kept."""
    out = []
    for name, metrics in record.external.items():
        found = metrics.get("overlap")
        if not isinstance(found, dict):
            continue
        seen = found.get("excluded", 0)
        kept = found.get("kept", 0)
        word = "external" if found.get("disjoint_by") else "other"
        out.append(Evidence(f"overlap-{name}", f"overlap of {name}", "info",
                            f"{seen} of {found.get('images')} images seen by the run "
                            f"({found.get('sentence', '')}); {kept} kept",
                            f"metrics on {name} use only the {kept} {word} images"))
    return out


def collect_evidence(record: RunRecord, settings: ReportSection) -> list[Evidence]:
    """Every line of the verdict, in the order the report shows them."""
    rules = settings.verdict
    lines = [protocol(record), degenerate(record), baseline(record, rules),
             occlusion(record, rules), source_probe(record, rules), loso(record, rules),
             subgroups(record), *overlap(record)]
    return [e for e in lines if e is not None]
