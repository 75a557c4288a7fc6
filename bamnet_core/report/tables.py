"""HTML tables for the report: metrics with intervals, claimed vs reproduced, the audit, probes.

Every value from the run folder is escaped; numbers are formatted here only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from ..config.schema import ReportSection
from .support import show

# The paper's own claim, stated with its protocol (see DESIGN.md and the paper's results).
PAPER_CLAIMS = (
    ("BAM-NET paper, with DCGAN images", "accuracy", 0.995),
    ("BAM-NET paper, without DCGAN images", "accuracy", 0.9919),
)
PAPER_PROTOCOL = ("image-level split, 30% validation, no test split; validation also chose the "
                  "model; GAN images may have reached validation (leaky)")

# (label, evaluator, key) rows of the metrics table, in order.
METRIC_ROWS = (
    ("accuracy", "classification", "accuracy"),
    ("sensitivity (positive class)", "classification", "sensitivity"),
    ("specificity", "classification", "specificity"),
    ("balanced accuracy", "classification", "balanced_accuracy"),
    ("PPV", "classification", "ppv"),
    ("NPV", "classification", "npv"),
    ("F1", "classification", "f1"),
    ("ROC AUC", "roc", "roc_auc"),
    ("PR AUC", "roc", "pr_auc"),
    ("expected calibration error", "calibration", "ece"),
    ("Brier score", "calibration", "brier"),
)


def fmt(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` decimals, a dash for None, anything else escaped."""
    if value is None:
        return "&ndash;"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def interval(value: dict[str, Any] | None) -> str:
    """``[low, high]`` of an interval entry, or a dash."""
    if not value:
        return "&ndash;"
    return f"[{value['low']:.3f}, {value['high']:.3f}]"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """An HTML table; cells are already HTML. Every column has a header.

    :raises ValueError: for an empty header (a programming error, caught by the tests).
    """
    if any(not h.strip() for h in header):
        raise ValueError(f"a report table column has no header: {list(header)}")
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def metric_value(results: dict[str, Any], evaluator: str, key: str) -> tuple[Any, Any]:
    """``(value, interval)`` of one metric of one split's results."""
    entry = results.get(evaluator) or {}
    return entry.get(key), (entry.get("intervals") or {}).get(key)


def supported_cell(results: dict[str, Any], evaluator: str, key: str,
                   settings: ReportSection | None = None) -> tuple[str, str]:
    """``(value, interval)`` of one metric as the report shows it: "too few" below the
    ``[report]`` minimum counts, an exact interval for a rate of 0 or 1."""
    settings = settings or ReportSection()
    value, ci = metric_value(results, evaluator, key)
    counts = (results.get("classification") or {}).get("counts")
    shown = show(key, value, ci, counts, min_positives=settings.min_positives,
                 min_negatives=settings.min_negatives)
    return escape(shown.value), escape(shown.interval)


def metrics_table(results: dict[str, Any], settings: ReportSection | None = None) -> str:
    """Each headline metric of one split, with its 95% interval and its support."""
    rows = []
    for label, evaluator, key in METRIC_ROWS:
        if evaluator not in results:
            continue
        rows.append((escape(label), *supported_cell(results, evaluator, key, settings)))
    op = (results.get("roc") or {}).get("operating_point") or {}
    if op.get("threshold") is not None:
        rows.append((f"sensitivity at threshold {op['threshold']:.3f} (chosen on "
                     f"{escape(op['chosen_on'])} for {op['target_sensitivity']:.0%})",
                     fmt(op.get("sensitivity")), "&ndash;"))
        rows.append(("specificity at that threshold", fmt(op.get("specificity")), "&ndash;"))
    errors = [(escape(name), f'<span class="bad">{escape(entry["error"])}</span>', "")
              for name, entry in results.items()
              if isinstance(entry, dict) and "error" in entry]
    return table(("metric", "value", "95% interval (patients resampled; exact at 0 or 1)"),
                 rows + errors)


PAPER_RUN = ("the paper's three sources (Cohen covid, Kaggle radiography, Kermany pediatric "
             "normals); VGG16 (ImageNet), 224 px")


def claimed_vs_reproduced(runs: Sequence[tuple[str, dict[str, Any], bool, str]]) -> str:
    """The paper's claims beside each run's accuracy, each row naming its protocol and run.

    :param runs: ``(label, metrics.json, leaky, what was run)`` per run.
    """
    rows = [(escape(who), f"{value:.2%}", "&ndash;", escape(PAPER_PROTOCOL), escape(PAPER_RUN))
            for who, _, value in PAPER_CLAIMS]
    for label, metrics, leaky, described in runs:
        for split, results in (metrics.get("splits") or {}).items():
            value, ci = metric_value(results, "classification", "accuracy")
            if value is None:
                continue
            protocol = _protocol(split, leaky, metrics)
            rows.append((escape(f"{label}: {split}"), f"{value:.2%}", interval(ci),
                         escape(protocol), escape(described)))
    return table(("result", "accuracy", "95% interval", "protocol", "data and model"), rows,
                 "claims")


def _protocol(split: str, leaky: bool, metrics: dict[str, Any]) -> str:
    level = "image-level split (LEAKY: a patient can be in training and evaluation)" if leaky \
        else "patient-grouped split"
    role = {"test": "held-out test split (headline)",
            "val": "validation split, which also chose the epoch"
            + ("" if "test" in metrics.get("splits", {}) else " (no test split: optimistic)"),
            "external": "external dataset"}.get(split, split)
    return f"{level}; {role}"


def counts_table(counts: dict[str, dict[str, int]], first: str) -> str:
    """A table of image counts: rows (split or source) by class."""
    classes = sorted({c for row in counts.values() for c in row})
    rows = [(escape(name), *[str(row.get(c, 0)) for c in classes], str(sum(row.values())))
            for name, row in counts.items()]
    return table((first, *classes, "total"), rows)


LONG_LIST = 8  # a list longer than this is folded under <details>


def warnings_list(warnings: Sequence[str]) -> str:
    """The audit's warnings as a list (or a line saying there are none)."""
    if not warnings:
        return "<p>The audit found nothing to warn about.</p>"
    items = '<ul class="warnings">' + "".join(f"<li>{escape(w)}</li>" for w in warnings) + "</ul>"
    if len(warnings) <= LONG_LIST:
        return items
    return (f"<details><summary><b>{len(warnings)} warnings</b> (click to open)</summary>"
            f"{items}</details>")
