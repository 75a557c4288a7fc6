"""What is in a dataset and what is wrong with it, before anyone trains on it.

:func:`audit_samples` is what ``bamnet data inspect`` shows and what every run
writes to ``data-audit.json``: counts, decode failures, exact and near
duplicates (within and across sources and splits), patients in two splits,
class-vs-source confounding, age mismatch, and the image-property shortcut
baseline (:mod:`.shortcut_baseline`). The result is plain data.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from .._util.progress import ProgressCallback, silent
from ..contract.sample import Sample
from ..errors import ImageDecodeError
from .confounding import (
    demographic_mismatch,
    demographic_warnings,
    population_report,
    population_warnings,
    source_confounding,
    source_warnings,
)
from .duplicates import DEFAULT_NEAR_THRESHOLD, find_duplicates
from .fingerprints import DHASH_BITS, Fingerprint, fingerprint_files
from .shortcut_baseline import DEFAULT_THRESHOLD, shortcut_baseline
from .splits import PatientSplit

LIST_LIMIT = 200  # longest list of pairs/patients kept in the report


def _count(samples: Sequence[Sample], key: str) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for s in samples:
        value = getattr(s, key) or "unknown"
        table[str(value)][s.label] += 1
    return {k: dict(v) for k, v in sorted(table.items())}


def audit_samples(
    samples: Sequence[Sample],
    *,
    split: PatientSplit | None = None,
    errors: Sequence[ImageDecodeError] = (),
    fingerprints: Mapping[str, Fingerprint] | None = None,
    duplicates: bool = True,
    near_threshold: int = DEFAULT_NEAR_THRESHOLD,
    shortcut_threshold: float | None = DEFAULT_THRESHOLD,
    seed: int = 0,
    population_facts: Mapping[str, dict[str, str]] | None = None,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Audit samples (and their split, if any).

    :param errors: decode failures already known (from loading).
    :param fingerprints: path -> fingerprint, if already computed; otherwise
        files are fingerprinted here (cached, so after a run's decode this
        only hashes bytes), and files that fail join ``errors``.
    :param duplicates: False skips the duplicate search (and fingerprinting).
    :param near_threshold: largest dHash distance (of 256 bits) counted as a
        near duplicate.
    :param shortcut_threshold: flag the image-property shortcut baseline at
        this ROC-AUC; None skips the baseline.
    :param seed: seeds the baseline's folds and bootstrap.
    :param population_facts: source name -> known facts (``StatesPopulation``);
        stated in the report, and a pediatric-vs-adult class split is flagged.
    :returns: a JSON-serialisable dict; ``warnings`` lists human sentences.
    """
    warnings: list[str] = []
    failures = {e.path: e for e in errors}
    if (duplicates or shortcut_threshold is not None) and fingerprints is None:
        todo = [s.path for s in samples if s.path not in failures]
        fingerprints, more = fingerprint_files(todo, progress=progress)
        failures.update({e.path: e for e in more})
    split_of = ({s.path: name for name, part in split.assignment.items() for s in part}
                if split is not None else {})
    report: dict[str, Any] = {
        "images": len(samples),
        "patients": len({s.patient_id for s in samples}),
        "by_class": dict(sorted(Counter(s.label for s in samples).items())),
        "by_source": _count(samples, "source"),
        "by_view": _count(samples, "view"),
        "synthetic": sum(s.synthetic for s in samples),
        "decode_failures": [{"path": e.path, "kind": getattr(e, "kind", "unreadable"),
                             "reason": e.reason} for e in failures.values()],
    }
    if failures:
        kinds = Counter(getattr(e, "kind", "unreadable") for e in failures.values())
        warnings.append(f"{len(failures)} file(s) could not be decoded and are left out ("
                        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")")
    if duplicates:
        report["duplicates"] = _duplicates(samples, fingerprints or {}, split_of,
                                           near_threshold, warnings)
    if split is not None:
        report["split"] = _split_report(split, warnings)
    report["confounding"] = source_confounding([s for s in samples if not s.synthetic])
    warnings.extend(source_warnings(report["confounding"]))
    real = [s for s in samples if not s.synthetic]
    report["demographics"] = demographic_mismatch(real)
    population = population_report(real, dict(population_facts or {}))
    report["population_facts"] = population["facts"]
    report["population_by_class"] = population["per_class"]
    stated = population_warnings(population)
    warnings.extend(stated)
    warnings.extend(w for w in demographic_warnings(report["demographics"])
                    if not (stated and "cannot be ruled out" in w))
    if shortcut_threshold is not None:
        props = {path: fp.properties for path, fp in (fingerprints or {}).items()
                 if fp.properties}
        baseline = shortcut_baseline(samples, props, threshold=shortcut_threshold, seed=seed,
                                     progress=progress)
        report["shortcut_baseline"] = baseline
        if baseline.get("finding"):
            warnings.append(baseline["finding"])
        elif strong_single_properties(baseline):
            warnings.append(strong_single_properties(baseline))
    report["warnings"] = warnings
    return report


def strong_single_properties(baseline: dict[str, Any]) -> str | None:
    """A warning for single image properties that separate the classes at the baseline's
    threshold when the cross-validated baseline itself was not flagged (too few images for
    it to learn, say); None when there are none.

    The audit lists them with their AUCs, so its summary must not read "no problems"
    beside them.
    """
    threshold = baseline.get("threshold")
    if baseline.get("status") != "done" or threshold is None:
        return None
    strong = [t for t in baseline.get("top_properties") or () if t["auc"] >= threshold]
    if not strong:
        return None
    listed = ", ".join(f"{t['property']} {t['auc']:.3f} ({t['direction']} in {t['class']})"
                       for t in strong[:3])
    more = f" and {len(strong) - 3} more" if len(strong) > 3 else ""
    return (f"single image properties separate the classes on their own (ROC-AUC at or above "
            f"{threshold:g} on these images): {listed}{more}; the cross-validated baseline "
            "was not flagged, but a model can read them: check how each class's images "
            "were made before trusting a CNN's score")


def _split_report(split: PatientSplit, warnings: list[str]) -> dict[str, Any]:
    crossing = split.patients_in_several_splits()
    where = crossing_splits(crossing)
    if split.leaky:
        warnings.append(
            "split.by = 'image' is leaky: images of one patient can sit in several splits "
            f"({where or 'none does in this split'}); metrics will be optimistic")
    elif crossing:
        warnings.append(f"{len(crossing)} patient(s) appear in more than one split ({where})")
    warnings.extend(split.notes)
    return {
        "by": split.by,
        "seed": split.seed,
        "leaky": split.leaky,
        "counts": split.counts(),
        "patients_in_several_splits": len(crossing),
        "patients_by_splits": dict(Counter("+".join(_ordered(v)) for v in crossing.values())),
        "patients_in_several_splits_list": dict(sorted(crossing.items())[:LIST_LIMIT]),
        "notes": split.notes,
    }


SPLIT_WORDS = {"train": "training", "val": "validation", "test": "test"}


def _ordered(splits: Sequence[str]) -> list[str]:
    order = list(SPLIT_WORDS)
    return sorted(splits, key=lambda s: (order.index(s) if s in order else len(order), s))


def crossing_text(by_splits: Mapping[str, int]) -> str:
    """``{"train+test": 55, "train+val": 33}`` as "55 patients in training and test, 33 in
    training and validation" (most first); empty when no patient crosses."""
    ranked = sorted(by_splits.items(), key=lambda kv: -kv[1])
    parts = [f"{n} in {' and '.join(SPLIT_WORDS.get(s, s) for s in where.split('+'))}"
             for where, n in ranked]
    if parts:
        n = ranked[0][1]
        parts[0] = f"{n} patient{'' if n == 1 else 's'}{parts[0][len(str(n)):]}"
    return ", ".join(parts)


def crossing_splits(crossing: Mapping[str, Sequence[str]]) -> str:
    """How many patients sit in which splits, most first, e.g. "55 patients in training and
    test, 33 in training and validation"; empty when none does."""
    return crossing_text(Counter("+".join(_ordered(v)) for v in crossing.values()))


def _duplicates(samples: Sequence[Sample], prints: Mapping[str, Fingerprint],
                split_of: Mapping[str, str], threshold: int,
                warnings: list[str]) -> dict[str, Any]:
    by_path = {s.path: s for s in samples}
    pairs = find_duplicates([prints[s.path] for s in samples if s.path in prints],
                            threshold=threshold)
    rows: list[dict[str, Any]] = []
    tally: Counter[str] = Counter()
    for p in pairs:
        a, b = by_path[p.a], by_path[p.b]
        row = {
            "a": p.a, "b": p.b, "kind": p.kind, "distance": p.distance,
            "sources": sorted({a.source, b.source}),
            "across_sources": a.source != b.source,
            "same_patient": a.patient_id == b.patient_id,
            "same_label": a.label == b.label,
        }
        if split_of:
            row["splits"] = sorted({split_of.get(p.a, "-"), split_of.get(p.b, "-")})
            row["across_splits"] = split_of.get(p.a) != split_of.get(p.b)
        rows.append(row)
        tally[p.kind] += 1
        tally["across_sources" if row["across_sources"] else "within_source"] += 1
        tally["across_splits"] += bool(row.get("across_splits"))
        tally["different_patients"] += not row["same_patient"]
        tally["conflicting_labels"] += not row["same_label"]
    summary = {k: tally[k] for k in ("exact", "near", "within_source", "across_sources",
                                     "across_splits", "different_patients",
                                     "conflicting_labels")}
    if pairs:
        warnings.append(f"{len(pairs)} duplicate pair(s): {summary['exact']} exact, "
                        f"{summary['near']} near (dHash within {threshold}/{DHASH_BITS} bits); "
                        f"{summary['across_sources']} across sources, "
                        f"{summary['different_patients']} with different patient ids")
    if summary["across_splits"]:
        warnings.append(f"{summary['across_splits']} duplicate pair(s) straddle two splits: "
                        "the same image is trained on and evaluated")
    if summary["conflicting_labels"]:
        warnings.append(f"{summary['conflicting_labels']} duplicate pair(s) carry different "
                        "labels")
    return {"near_threshold_bits": threshold, "hash_bits": DHASH_BITS,
            "fingerprinted": len(prints), **summary, "pairs": rows[:LIST_LIMIT]}
