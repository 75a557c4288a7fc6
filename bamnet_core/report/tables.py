"""HTML tables for the report: metrics with intervals, claimed vs reproduced, the audit, probes.

Every value from the run folder is escaped; numbers are formatted here only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from ..config.schema import ReportSection
from ..runs.files import MetricsFile, SplitMetrics
from .support import show_in_split

# The paper's own claim, stated with its protocol (see DESIGN.md and the paper's results).
PAPER_CLAIMS = (
    ("BAM-NET paper, with DCGAN images", "accuracy", 0.995),
    ("BAM-NET paper, without DCGAN images", "accuracy", 0.9919),
)
PAPER_PROTOCOL = ("image-level split, 30% validation, no test split; validation also chose the "
                  "model; GAN images may have reached validation (leaky)")

# (label, evaluator, key) rows of the metrics table, in order; evaluator None: the split's
# stored headline, whichever evaluator gave it.
METRIC_ROWS: tuple[tuple[str, str | None, str], ...] = (
    ("accuracy", None, "accuracy"),
    ("sensitivity (positive class)", None, "sensitivity"),
    ("specificity", None, "specificity"),
    ("balanced accuracy", None, "balanced_accuracy"),
    ("PPV", None, "ppv"),
    ("NPV", None, "npv"),
    ("F1", None, "f1"),
    ("ROC AUC", None, "roc_auc"),
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


def metric_value(results: SplitMetrics | None, evaluator: str | None,
                 key: str) -> tuple[Any, Any]:
    """``(value, interval)`` of one metric of one evaluated split (both None when it has
    none, or the run did not evaluate the split).

    :param evaluator: whose results hold it; None for the split's stored headline.
    """
    if results is None:
        return None, None
    if evaluator is None:
        estimate = results.headline.get(key) if results.headline else None
        if estimate is None:
            return None, None
        return estimate.value, ({"low": estimate.low, "high": estimate.high}
                                if estimate.interval else None)
    entry = results.results(evaluator) or {}  # an evaluator's results are its own shape
    return entry.get(key), (entry.get("intervals") or {}).get(key)


def _has(results: SplitMetrics, evaluator: str | None, key: str) -> bool:
    if evaluator is None:
        return results.headline is not None and results.headline.get(key) is not None
    return evaluator in results.evaluators


def supported_cell(results: SplitMetrics | None, evaluator: str | None, key: str,
                   settings: ReportSection | None = None) -> tuple[str, str]:
    """``(value, interval)`` of one metric as the report shows it: "too few" below the
    ``[report]`` minimum counts, an exact interval for a rate of 0 or 1."""
    settings = settings or ReportSection()
    value, ci = metric_value(results, evaluator, key)
    headline = results.headline if results else None
    counts = headline.counts.model_dump() if headline and headline.counts else None
    shown = show_in_split(key, value, ci, counts, settings)
    return escape(shown.value), escape(shown.interval)


def metrics_table(results: SplitMetrics, settings: ReportSection | None = None) -> str:
    """Each headline metric of one split, with its 95% interval and its support."""
    rows = []
    for label, evaluator, key in METRIC_ROWS:
        if _has(results, evaluator, key):
            rows.append((escape(label), *supported_cell(results, evaluator, key, settings)))
    known = {key for _, evaluator, key in METRIC_ROWS if evaluator is None}
    headline = results.headline
    for metric in headline.metrics if headline else ():  # an evaluator's own headline rows
        if metric.key not in known:
            rows.append((escape(metric.label),
                         *supported_cell(results, None, metric.key, settings)))
    op = (results.results("roc") or {}).get("operating_point") or {}
    if op.get("threshold") is not None:
        rules = settings or ReportSection()
        at = [show_in_split(key, op.get(key), None, op.get("counts"), rules).value
              for key in ("sensitivity", "specificity")]
        rows.append((f"sensitivity at threshold {op['threshold']:.3f} (chosen on "
                     f"{escape(op['chosen_on'])} for {op['target_sensitivity']:.0%})",
                     escape(at[0]), "&ndash;"))
        rows.append(("specificity at that threshold", escape(at[1]), "&ndash;"))
    errors = [(escape(name), f'<span class="bad">{escape(entry["error"])}</span>', "")
              for name, entry in results.evaluators.items() if "error" in entry]
    return table(("metric", "value", "95% interval (patients resampled; exact at 0 or 1)"),
                 rows + errors)


PAPER_RUN = ("the paper's three sources (Cohen covid, Kaggle radiography, Kermany pediatric "
             "normals); VGG16 (ImageNet), 224 px")


def claimed_vs_reproduced(runs: Sequence[tuple[str, MetricsFile | None, bool, str]],
                          comparable: Sequence[str] | None = None,
                          settings: Sequence[ReportSection] | None = None) -> str:
    """The paper's claims beside each run's accuracy, each row naming its protocol and run,
    and whether its data is like the paper's.

    :param runs: ``(label, metrics.json, leaky, what was run)`` per run (None for a run
        that has not evaluated).
    :param comparable: per run, whether its data is like the paper's, in words
        (:func:`.run_summary.paper_comparison`); "&ndash;" where not given.
    :param settings: per run, its ``[report]`` section: an accuracy on a split too small
        to conclude reads "too few (n = k)" (defaults where not given).
    """
    rows = [(escape(who), f"{value:.2%}", "&ndash;", escape(PAPER_PROTOCOL), escape(PAPER_RUN),
             "the paper's own") for who, _, value in PAPER_CLAIMS]
    likes = list(comparable or [])
    for i, (label, metrics, leaky, described) in enumerate(runs):
        like = escape(likes[i]) if i < len(likes) and likes[i] else "&ndash;"
        if like.startswith("NOT comparable"):
            like = f'<b class="bad">{like}</b>'
        rules = settings[i] if settings and i < len(settings) else ReportSection()
        for split, results in (metrics.splits if metrics else {}).items():
            value, ci = metric_value(results, None, "accuracy")
            if value is None:
                continue
            protocol = _protocol(split, leaky, metrics)
            counts = results.headline.counts.model_dump() if results.headline and \
                results.headline.counts else None
            shown = show_in_split("accuracy", value, ci, counts, rules)
            cells = (f"{value:.2%}", interval(ci)) if shown.supported else \
                (escape(shown.value), "&ndash;")
            rows.append((escape(f"{label}: {split}"), *cells, escape(protocol),
                         escape(described), like))
    return table(("result", "accuracy", "95% interval", "protocol", "data and model",
                  "like the paper's data?"), rows, "claims")


def _protocol(split: str, leaky: bool, metrics: MetricsFile) -> str:
    level = "image-level split (LEAKY: a patient can be in training and evaluation)" if leaky \
        else "patient-grouped split"
    role = {"test": "held-out test split (headline)",
            "val": "validation split, which also chose the epoch"
            + ("" if "test" in metrics.splits else " (no test split: optimistic)"),
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
