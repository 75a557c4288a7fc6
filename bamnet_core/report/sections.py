"""The report's sections, each a function from a run record to HTML.

``img`` turns PNG bytes into an embedded ``<img>`` (and saves the PNG as the
run layout's file, :func:`bamnet_core.runs.layout.plot`); sections never reach
the network. They read the typed record: the core's entries as attributes, an
evaluator's own results through :meth:`RunRecord.results`.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from ..runs import layout
from ..runs.files import AuditFile, MetricsFile
from . import figures
from .audit_sections import shortcut_and_subgroups
from .record import RunRecord
from .run_summary import model_description, paper_comparison, run_description
from .support import show
from .tables import (
    claimed_vs_reproduced,
    counts_table,
    fmt,
    metrics_table,
    table,
    warnings_list,
)

Img = Callable[[str, "bytes | None", str], str]

DISCLAIMER = ("bamnet is a research tool. Nothing in this report is fit for clinical diagnosis, "
              "and no model here is a medical device.")


def section(key: str, title: str, body: str) -> str:
    """One ``<section>`` with an id the browser check looks for."""
    return f'<section id="{key}"><h2>{escape(title)}</h2>{body}</section>'


def collapsed(summary: str, body: str) -> str:
    """A long list or grid folded under a ``<details>`` (no JavaScript needed to open it)."""
    return f"<details><summary><b>{escape(summary)}</b></summary>{body}</details>"


def protocol_section(record: RunRecord) -> str:
    """How the data was split and which split gives the headline numbers."""
    split = record.config.split
    headline = record.metrics.headline if record.metrics else None
    leaky = record.leaky
    lines = [f"<p>Split by <b>{escape(split.by)}</b>: validation "
             f"{fmt(split.val, 2)}, test {fmt(split.test, 2)}.</p>"]
    if leaky:
        lines.append('<p class="bad"><b>LEAKY protocol.</b> Images of one patient can sit in '
                     "training and evaluation; every number below is optimistic. This is the "
                     "paper's protocol, reproduced on purpose.</p>")
    if headline:
        lines.append(f"<p>Headline numbers: the <b>{escape(headline.split)}</b> "
                     f"split ({escape(headline.note)}).</p>")
    counts = record.audit.split.counts if record.audit and record.audit.split else None
    if counts:
        lines.append(counts_table(counts, "split"))
    return section("protocol", "Split protocol", "".join(lines))


def data_section(record: RunRecord) -> str:
    """Counts by source and class, the audit's warnings and known population facts."""
    audit = record.audit or AuditFile()
    body = [f"<p>{fmt(audit.images)} images of {fmt(audit.patients)} patients; "
            f"{fmt(audit.synthetic)} synthetic (training only).</p>"]
    if audit.by_source:
        body.append(counts_table(audit.by_source, "source"))
    if audit.population_facts:
        body.append("<h3>Known population facts</h3><ul>" + "".join(
            f"<li><b>{escape(src)}</b>: {escape(f.fact)}</li>"
            for src, f in audit.population_facts.items()) + "</ul>")
    cv = audit.shortcut_baseline
    if cv is not None and cv.status == "done" and cv.auc is not None:
        body.append(f"<p>{escape(cv.name[:1].upper() + cv.name[1:])}, cross-validated over "
                    f"the whole dataset "
                    f"(grouped by patient): ROC-AUC {fmt(cv.auc, 2)}. The verdict's figure is the "
                    "one on the test split, beside the model (Shortcut probes).</p>")
    body.append("<h3>Audit warnings</h3>" + warnings_list(record.warnings))
    return section("data", "Data and audit", "".join(body))


def metrics_section(record: RunRecord) -> str:
    """One metrics table per evaluated split."""
    if not record.splits:
        return section("metrics", "Metrics", "<p>This run has no metrics (it did not finish "
                       "evaluating).</p>")
    body = []
    for name, results in record.splits.items():
        body.append(f"<h3>{escape(name)} ({fmt(results.images)} images, "
                    f"{fmt(results.patients)} patients)</h3>"
                    f"{metrics_table(results, record.config.report)}")
    return section("metrics", "Metrics with 95% intervals", "".join(body))


def plots_section(record: RunRecord, img: Img) -> str:
    """Training history, confusion matrices, ROC/PR curves and calibration."""
    body = [img(layout.plot("history"), figures.history_figure(record.history),
                "training history")]
    for name in record.splits:
        counted_by = record.splits[name].headline_from  # the evaluator that counted it
        cm = (record.results(name, counted_by) or {}).get("confusion_matrix") if counted_by \
            else None
        if cm:
            body.append(img(layout.plot("confusion", name), figures.confusion_figure(
                cm["rows_true_cols_pred"], cm["labels"], f"Confusion matrix ({name})"),
                f"confusion matrix {name}"))
        if (roc := record.results(name, "roc")) is not None:
            body.append(img(layout.plot("roc-pr", name), figures.roc_pr_figure(roc, name),
                            f"ROC and PR {name}"))
        if (calibration := record.results(name, "calibration")) is not None:
            body.append(img(layout.plot("calibration", name),
                            figures.calibration_figure(calibration, name),
                            f"calibration {name}"))
    return section("plots", "Plots", "".join(body))


def gradcam_section(record: RunRecord, img: Img, plots: Path) -> str:
    """The Grad-CAM grids, misclassified images first."""
    body = []
    for name in record.splits:
        cam = record.results(name, "gradcam")
        if cam is None or "images" not in cam:
            continue
        grid = img(layout.plot("gradcam", name), figures.gradcam_grid(
            cam["images"], plots, f"Grad-CAM ({name})"), f"Grad-CAM {name}")
        body.append(collapsed(
            f"{name}: layer {cam['layer']}; {cam['shown_misclassified']} of "
            f"{cam['misclassified']} misclassified images (red frames), with correct ones "
            "for contrast", grid))
    return section("gradcam", "Grad-CAM", "".join(body) or "<p>No Grad-CAM in this run.</p>")


def probes_section(record: RunRecord, img: Img) -> str:
    """Results per source, the source probe and the occlusion check."""
    body = []
    for name in record.splits:
        per = record.results(name, "per-source")
        if per is not None and len(per.get("sources") or {}) > 1:
            body.append(per_source_block(name, per, img, record))
        elif per is not None and per.get("sources"):
            body.append(f"<p>Per source ({escape(name)}): one source only; no breakdown.</p>")
        body.append(_probe(name, record.results(name, "source-probe")))
        body.append(_occlusion(name, record.results(name, "occlusion")))
    body.append(shortcut_and_subgroups(record))
    return section("probes", "Shortcut probes", "".join(body) or "<p>No probes ran.</p>")


def per_source_block(name: str, per: dict[str, Any], img: Img, record: RunRecord) -> str:
    """Results per source with their support, the chart, and the held-out results."""
    settings = record.config.report
    body = [f"<h3>Per source ({escape(name)}: {escape(per['mode'])})</h3>"]
    if per["mode"] == "evaluate per source":
        body.append("<p>One model, its results on each source. A model that never saw "
                    "a source is measured by <code>bamnet loso CONFIG</code>, which "
                    "retrains once per held-out source.</p>")
    rows = []
    for src, e in per["sources"].items():
        counts = {"pos": int(e["positives"]), "neg": int(e["images"]) - int(e["positives"])}
        cells = [show(k, e.get(k), (e.get("intervals") or {}).get(k), counts,
                      min_positives=settings.min_positives,
                      min_negatives=settings.min_negatives)
                 for k in ("sensitivity", "specificity")]
        rows.append((escape(src), str(e["images"]), str(e["positives"]),
                     *[escape(f"{c.value} {c.interval if c.supported else ''}") for c in cells]))
    body.append(table(("source", "images", "positives", "sensitivity [95%]",
                       "specificity [95%]"), rows))
    body.append(img(layout.plot("per-source", name), figures.per_source_figure(
        per, name, min_positives=settings.min_positives, min_negatives=settings.min_negatives),
        f"per source {name}"))
    body.append(_held_out(per.get("held_out")))
    return "".join(body)


def _held_out(held: dict[str, Any] | None) -> str:
    if not held:
        return ""
    rows = [(escape(src), str(e.get("images")), fmt(e.get("sensitivity")),
             fmt(e.get("specificity"))) for src, e in held.items()]
    return "<p>Trained once per held-out source, scored on that source only:</p>" + table(
        ("held-out source", "images", "sensitivity", "specificity"), rows)


def _probe(name: str, probe: Any) -> str:
    if not isinstance(probe, dict):
        return ""
    if "note" in probe:
        return f"<p>Source probe ({escape(name)}): {escape(probe['note'])}</p>"
    rows = []
    for label, entry in [("all images", probe.get("overall")),
                         *[(f"{c} only", e) for c, e in probe.get("within_class", {}).items()]]:
        if entry:
            rows.append((escape(label), str(entry["images"]), str(entry["sources"]),
                         fmt(entry["accuracy"]), fmt(entry["chance"])))
    return (f"<h3>Source probe ({escape(name)})</h3><p>A logistic regression on the "
            f"classifier's {probe.get('feature_size')} penultimate features predicts the "
            "image's source (folds grouped by patient).</p>"
            + table(("images", "n", "sources", "probe accuracy", "chance"), rows))


CHANCE_BAND = 0.05  # an AUC within this of 0.5 has no separation to lose


def _separation_change(full: float | None, masked: float | None) -> str:
    """What hiding the lungs did to the model's separation (its ROC AUC's distance from
    0.5), in words that its own numbers bear out."""
    if full is None or masked is None:
        return "could not be measured with the lungs hidden"
    before, after = abs(full - 0.5), abs(masked - 0.5)
    if before <= CHANCE_BAND:
        return "has no separation to lose: with the lungs visible it is already at chance"
    kept = after / before
    if kept >= 0.5:
        return f"keeps {min(kept, 1.0):.0%} of its separation with the lungs hidden"
    return f"loses most of its separation with the lungs hidden ({kept:.0%} kept)"


def _occlusion(name: str, occ: Any) -> str:
    if not isinstance(occ, dict) or "auc_full" not in occ:
        return ""
    count = occ.get("images") or {}
    on = (f" on {count['occluded']} of {count['of']} images"
          if count.get("occluded") not in (None, count.get("of")) else "")
    region = occ.get("region")
    if isinstance(region, dict):  # a run from before lung fields: a fixed central box
        return (f"<h3>Occlusion ({escape(name)})</h3><p>A fixed central box masked (rows "
                f"{region.get('rows')}, columns {region.get('cols')} of the image, filled with "
                f"each image's own mean){on}: ROC AUC {fmt(occ['auc_full'])} &rarr; "
                f"{fmt(occ.get('auc_masked'))}. The box is not the lungs: read this with "
                "care.</p>")
    flag = ('; <span class="bad">it still separates the classes with the lungs hidden</span>'
            if occ.get("still_separates") else
            f"; it {_separation_change(occ['auc_full'], occ.get('auc_masked'))}")
    return (f"<h3>Occlusion ({escape(name)})</h3><p>Each image's lung fields hidden, then "
            f"everything but them, with one value fixed from the training images "
            f"({fmt(occ.get('fill'))}){on}: ROC AUC {fmt(occ['auc_full'])}; lungs hidden "
            f"{fmt(occ.get('auc_masked'))}; only the lungs {fmt(occ.get('auc_lungs_only'))}"
            f"{flag}.</p>")


def claims_section(record: RunRecord) -> str:
    """The paper's claimed accuracy beside this run's, protocol and run named on every row.

    Another dataset's row says "external" only when ``bamnet evaluate`` checked that it is
    disjoint from the run (an evaluation made before that check says it was not checked).
    """
    described = run_description(record)
    runs = [(record.name, record.metrics, record.leaky, described)]
    for name, m in record.external.items():
        checked = m.overlap is not None
        label = f"{record.name} on {name}" + ("" if checked else
                                              " (overlap with the run not checked)")
        data = m.overlap.kept if m.overlap else (m.data.images if m.data else None)
        runs.append((label, m if checked else _not_external(m), False,
                     f"{data} images of {name}; {model_description(record.config)}"))
    like = paper_comparison(record)
    return section("claims", "Claimed vs reproduced", claimed_vs_reproduced(
        runs, [like] + ["" for _ in record.external],
        [record.config.report] * len(runs)))


def _not_external(metrics: MetricsFile) -> MetricsFile:
    """An unchecked evaluation's metrics with its split renamed: it may not be external."""
    return metrics.model_copy(update={"splits": {
        ("other data, overlap unchecked" if k == "external" else k): v
        for k, v in metrics.splits.items()}})


def config_section(record: RunRecord) -> str:
    """The resolved config, verbatim."""
    return section("config", "Config", f"<pre>{escape(record.config_text)}</pre>")
