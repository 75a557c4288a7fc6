"""The headline numbers: the split they come from, and its main rates with their support.

The numbers are the split's stored :class:`~bamnet_core.contract.Headline`, given
by whichever evaluator measures them (``headline_from`` in ``metrics.json``); the
core reads no evaluator's results by name.
"""

from __future__ import annotations

from typing import Any

from ..config.schema import ReportSection
from ..runs.files import MetricsFile, SplitMetrics
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
    """Accuracy, sensitivity, specificity and ROC-AUC of the headline split, with support,
    and the decision threshold with where it came from."""
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
            "leaky": record.leaky, "metrics": rows,
            "threshold": record.metrics.threshold if record.metrics else None,
            "threshold_from": threshold_sentence(record.metrics)}


def threshold_sentence(metrics: MetricsFile | None) -> str:
    """Where the decision threshold came from, in words (``""`` without metrics)."""
    if metrics is None or metrics.threshold is None:
        return ""
    point = metrics.operating_point
    if point is None:  # a run made before the choice was recorded
        return f"{metrics.threshold:g}, fixed in the config"
    calibrated = (f"; probabilities calibrated on the {point.calibration.fitted_on} split "
                  f"(Platt), where it reads {point.calibrated_threshold:.3f}"
                  if point.calibration is not None and point.calibrated_threshold is not None
                  else "")
    return point.sentence + calibrated
