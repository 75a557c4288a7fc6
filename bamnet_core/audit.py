"""What is in a dataset and what is wrong with it, before anyone trains on it.

The result is plain data (the run folder's ``data-audit.json``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from .components import Sample
from .errors import ImageDecodeError
from .splits import PatientSplit


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
) -> dict[str, Any]:
    """Counts by class, source, view and split; decode failures; split leakage.

    :returns: a JSON-serialisable dict; ``warnings`` lists human sentences.
    """
    warnings: list[str] = []
    report: dict[str, Any] = {
        "images": len(samples),
        "patients": len({s.patient_id for s in samples}),
        "by_class": dict(Counter(s.label for s in samples)),
        "by_source": _count(samples, "source"),
        "by_view": _count(samples, "view"),
        "synthetic": sum(s.synthetic for s in samples),
        "decode_failures": [{"path": e.path, "reason": e.reason} for e in errors],
    }
    if errors:
        warnings.append(f"{len(errors)} file(s) could not be decoded and were left out")
    if split is not None:
        crossing = split.patients_in_several_splits()
        report["split"] = {
            "by": split.by,
            "seed": split.seed,
            "leaky": split.leaky,
            "counts": split.counts(),
            "patients_in_several_splits": len(crossing),
            "notes": split.notes,
        }
        if split.leaky:
            warnings.append(
                "split.by = 'image' is leaky: images of one patient can be in training and "
                f"validation ({len(crossing)} patients are); metrics will be optimistic"
            )
        warnings.extend(split.notes)
    report["warnings"] = warnings
    return report
