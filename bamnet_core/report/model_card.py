"""``model-card.md``: intended use, data, metrics with intervals, known confounds, limitations.

:func:`card_summary` is the short form export embeds in the ONNX metadata.
"""

from __future__ import annotations

from typing import Any

from .record import RunRecord
from .run_summary import data_description, model_description
from .sections import DISCLAIMER
from .support import show_in_split
from .tables import METRIC_ROWS, metric_value
from .verdict import Verdict, verdict_of
from .verdict_render import verdict_markdown


def _line(metric: dict[str, Any]) -> str:
    if metric.get("value") is None:
        return metric["shown"]
    value, ci = metric["value"], metric.get("ci95")
    return f"{value:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else f"{value:.3f}"


def card_summary(record: RunRecord) -> dict[str, Any]:
    """Headline metrics with intervals, the protocol and the confounds, as plain data.

    A metric the support rule does not carry (:func:`.support.show_in_split`) has
    ``value`` None and ``shown`` "too few (n = k)", never a bare number.
    """
    headline = record.headline_split
    results = record.splits.get(headline or "")
    found = results.headline if results else None
    counts = found.counts.model_dump() if found and found.counts else None
    metrics: dict[str, Any] = {}
    for _, evaluator, key in METRIC_ROWS[:9]:
        value, ci = metric_value(results, evaluator, key)
        if value is None:
            continue
        shown = show_in_split(key, value, ci, counts, record.config.report)
        metrics[key] = ({"value": value, **({"ci95": [ci["low"], ci["high"]]} if ci else {})}
                        if shown.supported else {"value": None, "shown": shown.value})
    return {
        "intended_use": "research on chest X-ray classifiers; not for clinical diagnosis",
        "protocol": {"split_by": record.config.split.by,
                     "leaky": record.leaky, "headline_split": headline},
        "metrics": metrics,
        "known_confounds": record.warnings,
    }


def _held_out(record: RunRecord) -> str:
    """``: source X alone, never trained on`` for a run that held a source out."""
    source = record.config.split.hold_out_source
    if not source or record.headline_split != "test":
        return ""
    return f": source {source!r} alone, held out of training and validation"


def model_card(record: RunRecord, verdict: Verdict | None = None) -> str:
    """The model card as Markdown, opening with the run's verdict."""
    summary = card_summary(record)
    cfg = record.config
    verdict = verdict or verdict_of(record)
    lines = [f"# Model card: {record.name}", "", *verdict_markdown(verdict),
             "## Intended use", "",
             f"{DISCLAIMER} It exists to study how chest X-ray classifiers behave, including "
             "the shortcuts they learn.", "",
             "## Model", "",
             f"- {model_description(cfg)}",
             f"- backbone: `{cfg.backbone.name}`; input "
             f"{cfg.preprocess.size} px, scaling `{cfg.preprocess.scaling}`",
             f"- classes: {', '.join(cfg.data.classes)}; positive: "
             f"`{cfg.data.positive}`", "",
             "## Data", "",
             f"- {data_description(record)}; "
             f"{record.audit.patients if record.audit else None} patients",
             f"- split by `{summary['protocol']['split_by']}`"
             + (" (LEAKY: one patient's images can be in training and evaluation)"
                if record.leaky else " (no patient in two splits)"), "",
             f"## Metrics ({summary['protocol']['headline_split']} split{_held_out(record)}, "
             "95% intervals resample patients)", ""]
    lines += [f"- {key}: {_line(m)}"
              for key, m in summary["metrics"].items()] or ["- none (the run did not evaluate)"]
    lines += ["", "## Known confounds", ""]
    lines += [f"- {w}" for w in summary["known_confounds"]] or ["- none found by the audit"]
    lines += ["", "## Limitations", "",
              "- Public COVID-19 chest X-ray collections mix hospitals, ages and devices; a "
              "model can score well by recognising those instead of disease (DeGrave et al. "
              "2021; Roberts et al. 2021). See the shortcut probes in report.html.",
              "- Intervals reflect sampling of patients in this data only, not other "
              "hospitals or populations.", ""]
    return "\n".join(lines)
