"""Shortcuts a model could learn instead of the disease: source and age.

If each class comes from its own sources, the scanner, markers and image
processing of a source predict the label; if one class is children and the
other adults, anatomy does (DeGrave et al. 2021; Roberts et al. 2021). These
functions measure both from sample provenance alone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from statistics import median
from typing import Any

from ..contract.sample import Sample

PURE = 0.9  # a source at least this much one class "belongs" to that class
PEDIATRIC_BELOW = 18.0


def source_confounding(samples: Sequence[Sample]) -> dict[str, Any]:
    """How far the source alone predicts the class.

    :returns: per class, the share of its images from sources holding only
        that class (``single_class_share``) and from sources at least 90%
        that class (``dominated_share``); the accuracy of guessing each
        image's class as its source's majority class (``source_only_accuracy``)
        against always guessing the largest class (``majority_baseline``).
    """
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    for s in samples:
        by_source[s.source or "unknown"][s.label] += 1
    totals = Counter(s.label for s in samples)
    per_class: dict[str, Any] = {}
    for label in sorted(totals):
        single = {src: c[label] for src, c in by_source.items() if c[label] and len(c) == 1}
        dominated = {src: c[label] for src, c in by_source.items()
                     if c[label] and c[label] / sum(c.values()) >= PURE}
        per_class[label] = {
            "images": totals[label],
            "sources": sorted(src for src, c in by_source.items() if c[label]),
            "single_class_sources": dict(sorted(single.items())),
            "single_class_share": round(sum(single.values()) / totals[label], 4),
            "dominated_sources": dict(sorted(dominated.items())),
            "dominated_share": round(sum(dominated.values()) / totals[label], 4),
        }
    n = len(samples)
    correct = sum(c.most_common(1)[0][1] for c in by_source.values())
    return {
        "sources": len(by_source),
        "per_class": per_class,
        "source_only_accuracy": round(correct / n, 4) if n else None,
        "majority_baseline": round(max(totals.values()) / n, 4) if n else None,
    }


def source_warnings(result: dict[str, Any]) -> list[str]:
    """Human sentences for :func:`source_confounding` results that matter."""
    out: list[str] = []
    for label, info in result["per_class"].items():
        share, names = info["dominated_share"], info["dominated_sources"]
        if share >= 0.5 and result["sources"] > 1:
            listed = ", ".join(f"{k} {v}" for k, v in names.items())
            out.append(f"{share:.0%} of {label!r} images come from sources that are "
                       f">={PURE:.0%} {label!r} ({listed}): the class can be predicted from "
                       "the source alone")
    acc, base = result["source_only_accuracy"], result["majority_baseline"]
    if acc is not None and result["sources"] > 1 and acc >= 0.9 and acc - base >= 0.1:
        out.append(f"knowing only each image's source predicts its class for {acc:.1%} of "
                   f"images (always guessing the largest class: {base:.1%}); validate on a "
                   "held-out source to see what the model learns")
    return out


def age_group(demographics: dict[str, Any] | Any) -> str | None:
    """``"pediatric"``, ``"adult"`` or None, from ``age`` (years) or ``age_group``."""
    age = demographics.get("age") if hasattr(demographics, "get") else None
    try:
        years = float(age) if age not in (None, "") else None
    except (TypeError, ValueError):
        years = None
    if years is not None:
        return "pediatric" if years < PEDIATRIC_BELOW else "adult"
    group = str(demographics.get("age_group") or "").lower()
    if group.startswith(("pediatric", "paediatric", "child")):
        return "pediatric"
    return "adult" if group.startswith("adult") else None


def demographic_mismatch(samples: Sequence[Sample]) -> dict[str, Any]:
    """Per class: how many images have a known age group, the pediatric share, the median age."""
    per_class: dict[str, Any] = {}
    labels = sorted({s.label for s in samples})
    for label in labels:
        mine = [s for s in samples if s.label == label]
        groups = [g for g in (age_group(s.demographics) for s in mine) if g]
        ages = []
        for s in mine:
            try:
                ages.append(float(s.demographics.get("age")))
            except (TypeError, ValueError):
                pass
        per_class[label] = {
            "images": len(mine),
            "age_known": len(groups),
            "age_known_share": round(len(groups) / len(mine), 4),
            "pediatric_share": round(groups.count("pediatric") / len(groups), 4)
            if groups else None,
            "median_age": median(ages) if ages else None,
        }
    return {"per_class": per_class}


def demographic_warnings(result: dict[str, Any], min_known: int = 5,
                         min_share: float = 0.2) -> list[str]:
    """Warn about a pediatric-vs-adult gap between classes, or about unknown ages."""
    out: list[str] = []
    known = {k: v for k, v in result["per_class"].items()
             if v["age_known"] >= min_known and v["age_known_share"] >= min_share}
    if len(known) >= 2:
        shares = {k: v["pediatric_share"] for k, v in known.items()}
        hi, lo = max(shares, key=shares.get), min(shares, key=shares.get)
        if shares[hi] - shares[lo] >= 0.5:
            out.append(f"age mismatch: {shares[hi]:.0%} of {hi!r} images with a known age are "
                       f"pediatric (<{PEDIATRIC_BELOW:g}) against {shares[lo]:.0%} of {lo!r}: a "
                       "model can separate the classes by anatomy instead of disease")
    if known and len(known) < len(result["per_class"]):
        missing = [f"{k!r} ({v['age_known']} of {v['images']})"
                   for k, v in result["per_class"].items() if k not in known]
        out.append("age is unknown for most images of " + ", ".join(missing) + "; a "
                   "pediatric-vs-adult mismatch between classes cannot be ruled out")
    return out


def population_report(samples: Sequence[Sample],
                      facts: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Known population facts of the sources present, and each class's share per age group.

    :param facts: source name -> ``{"age_group", "fact"}`` (``StatesPopulation``).
    """
    present = {s.source for s in samples}
    known = {src: f for src, f in sorted(facts.items()) if src in present}
    per_class: dict[str, Any] = {}
    for label in sorted({s.label for s in samples}):
        mine = [s for s in samples if s.label == label]
        groups = Counter(known.get(s.source, {}).get("age_group") for s in mine)
        per_class[label] = {"images": len(mine),
                            **{f"{g}_source_share": round(groups[g] / len(mine), 4)
                               for g in ("pediatric", "adult")}}
    return {"facts": known, "per_class": per_class}


def population_warnings(result: dict[str, Any], share: float = 0.3) -> list[str]:
    """State a pediatric-vs-adult class split as a fact when sources say so."""
    per_class, facts = result["per_class"], result["facts"]
    out = []
    for child, c in per_class.items():
        for adult, a in per_class.items():
            if child == adult or c["pediatric_source_share"] < share or \
                    a["adult_source_share"] < share or a["pediatric_source_share"] > 0:
                continue
            kids = ", ".join(f"{k} ({v['fact']})" for k, v in facts.items()
                             if v.get("age_group") == "pediatric")
            grown = ", ".join(k for k, v in facts.items() if v.get("age_group") == "adult")
            out.append(f"pediatric {child} vs adult {adult}: {c['pediatric_source_share']:.0%} "
                       f"of {child!r} images come from pediatric sources ({kids}) and "
                       f"{a['adult_source_share']:.0%} of {adult!r} images from adult sources "
                       f"({grown}): a model can separate the "
                       "classes by age and anatomy instead of disease")
    return out
