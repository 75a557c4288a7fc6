"""The headline numbers: the split they come from, and its main rates with their support.

The numbers are the split's stored :class:`~bamnet_core.contract.Headline`, given
by whichever evaluator measures them (``headline_from`` in ``metrics.json``); the
core reads no evaluator's results by name.
"""

from __future__ import annotations

from typing import Any

from ..config.schema import ReportSection
from ..runs.files import SplitMetrics
from .record import RunRecord
from .support import show_in_split

# (label, headline key) of the numbers the verdict qualifies, in order.
HEADLINE_METRICS = (("accuracy", "accuracy"), ("sensitivity", "sensitivity"),
                    ("specificity", "specificity"), ("ROC AUC", "roc_auc"))


def headline_split(record: RunRecord) -> tuple[str, SplitMetrics | None]:
    """The split the headline numbers come from (the one ``metrics.json`` names, else test,
    else val), and its metrics (None when the run did not evaluate it)."""
    name = record.headline_split or ("test" if "test" in record.splits else "val")
    return name, record.splits.get(name)


def headline_numbers(record: RunRecord, settings: ReportSection) -> dict[str, Any]:
    """Accuracy, sensitivity, specificity and ROC-AUC of the headline split, with support."""
    name, results = headline_split(record)
    headline = results.headline if results else None
    counts = headline.counts.model_dump() if headline and headline.counts else None
    rows = {}
    for label, key in HEADLINE_METRICS:
        estimate = headline.get(key) if headline else None
        if estimate is None:
            continue
        shown = show_in_split(key, estimate.value, estimate.interval, counts, settings)
        rows[label] = {"value": estimate.value if shown.supported else None,
                       "shown": shown.value, "interval": shown.interval,
                       "method": shown.method}
    return {"split": name, "images": results.images if results else None,
            "patients": results.patients if results else None,
            "leaky": record.leaky, "metrics": rows}
