"""The headline numbers: the split they come from, and its main rates with their support."""

from __future__ import annotations

from typing import Any

from ..config.schema import ReportSection
from .record import RunRecord
from .support import show

HEADLINE_METRICS = (("accuracy", "classification", "accuracy"),
                    ("sensitivity", "classification", "sensitivity"),
                    ("specificity", "classification", "specificity"),
                    ("ROC AUC", "roc", "roc_auc"))


def headline_split(record: RunRecord) -> tuple[str, dict[str, Any]]:
    """The split the headline numbers come from, and its results."""
    splits = record.metrics.get("splits") or {}
    name = (record.metrics.get("headline") or {}).get("split") or \
        ("test" if "test" in splits else "val")
    return name, splits.get(name) or {}


def headline_numbers(record: RunRecord, settings: ReportSection) -> dict[str, Any]:
    """Accuracy, sensitivity, specificity and ROC-AUC of the headline split, with support."""
    name, results = headline_split(record)
    counts = (results.get("classification") or {}).get("counts")
    rows = {}
    for label, evaluator, key in HEADLINE_METRICS:
        entry = results.get(evaluator) or {}
        if not entry or "error" in entry:
            continue
        value = entry.get(key) if key in entry else \
            (results.get("classification") or {}).get(key)
        shown = show(key, value, (entry.get("intervals") or {}).get(key), counts,
                     min_positives=settings.min_positives, min_negatives=settings.min_negatives)
        rows[label] = {"value": value if shown.supported else None, "shown": shown.value,
                       "interval": shown.interval, "method": shown.method}
    return {"split": name, "images": results.get("images"), "patients": results.get("patients"),
            "leaky": record.leaky, "metrics": rows}
