"""Write a run's report: ``plots/*.png``, ``report.html`` (self-contained) and ``model-card.md``.

Every file is written atomically, so a report interrupted half-way leaves the
previous one whole; running it again rewrites all three from the run folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from .._util import atomic
from ..runs import layout
from .audit_lists import label_issues_section
from .audit_sections import generator_figures, generator_quality
from .model_card import model_card
from .page import img_tag, render
from .record import RunRecord, read_run
from .sections import (
    DISCLAIMER,
    claims_section,
    config_section,
    data_section,
    gradcam_section,
    metrics_section,
    plots_section,
    probes_section,
    protocol_section,
    section,
)
from .tables import metrics_table
from .verdict import report_settings, verdict_of
from .verdict_render import headline_html, verdict_html

SECTION_TITLES = {
    "verdict": "Verdict", "headline": "Headline metrics",
    "protocol": "Protocol", "data": "Data and audit", "label-issues": "Label issues and outliers",
    "metrics": "Metrics", "plots": "Plots",
    "gradcam": "Grad-CAM", "probes": "Shortcut probes", "generator": "Generator",
    "claims": "Claimed vs reproduced",
    "external": "External validation", "config": "Config",
}


LEFT_OUT = ("<p>Grad-CAM overlays are left out of this shareable report: radiographs often "
            "carry burned-in names and dates. <code>bamnet report RUN --redact --images</code> "
            "keeps them, once you have checked the images.</p>")


@dataclass
class ReportFiles:
    """What :func:`build_report` wrote."""

    html: Path
    model_card: Path
    plots: list[Path] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    verdict: dict = field(default_factory=dict)


def external_section(record: RunRecord) -> str:
    """Metrics of every ``bamnet evaluate`` on another dataset, with what it shared with the run."""
    body = []
    settings = report_settings(record)
    for name, metrics in record.external.items():
        overlap = metrics.get("overlap")
        origin = escape(str(metrics.get("data", {}).get("origin", name)))
        if isinstance(overlap, dict):
            body.append(f"<p><b>{escape(name)}</b> ({origin}): {overlap.get('images')} images; "
                        f"{overlap.get('excluded')} excluded as seen by the run "
                        f"({escape(str(overlap.get('sentence')))}); metrics on the "
                        f"{overlap.get('kept')} it never saw, at the threshold its validation "
                        "split chose.</p>")
        else:
            body.append(f'<p class="bad"><b>{escape(name)}</b> ({origin}) was evaluated before '
                        "bamnet checked overlap: it may hold images the run saw, so it is not "
                        "called external.</p>")
        for split, results in (metrics.get("splits") or {}).items():
            body.append(f"<h3>{escape(name)} ({escape(split)}: {results.get('images')} "
                        f"images)</h3>{metrics_table(results, settings)}")
    return section("external", "External validation", "".join(body))


def shareable_requested(run_dir: str | Path) -> bool | None:
    """Whether the run's config asks for a shareable report (``[report] redact``).

    :returns: None when it does not; else whether the shareable report keeps images.
    """
    report = read_run(run_dir).config.get("report") or {}
    return bool(report.get("images")) if report.get("redact") else None


def build_report(run_dir: str | Path, *, redact: bool = False,
                 images: bool = False) -> ReportFiles:
    """Build the report of the run folder ``run_dir``.

    :param redact: write the shareable report instead, into ``shareable/`` of the
        run folder: patient ids as keyed pseudonyms, paths as source and index, no
        images (:mod:`bamnet_core.report.redact`).
    :param images: with ``redact``, keep the Grad-CAM overlays and thumbnails.
    :raises RunError: when it is not a run folder or a file in it is damaged.
    """
    record = read_run(run_dir)
    out = record.path
    if redact:
        from .redact import redact_record

        record, out = redact_record(record), record.path / layout.SHAREABLE
    show_images = images or not redact
    plots = out / layout.PLOTS
    written: list[Path] = []

    def img(name: str, png: bytes | None, alt: str) -> str:
        if png is None:
            return ""
        path = plots / f"{name}.png"
        atomic.write_bytes(path, png)
        written.append(path)
        return img_tag(png, alt)

    verdict = verdict_of(record)
    # reading order: the verdict, the headline numbers, the probes, the plots, the details
    parts = [("verdict", section("verdict", "Verdict: can the headline number be trusted?",
                                 verdict_html(verdict))),
             ("headline", section("headline", "Headline metrics", headline_html(verdict))),
             ("probes", probes_section(record, img)), ("plots", plots_section(record, img))]
    if made := generator_quality(record):
        shown = "".join(f"<p><code>{escape(name)}</code></p>" + img_tag(png, name)
                        for name, png in generator_figures(record.path)) if show_images else ""
        parts.append(("generator", section("generator", "Generator", made + shown)))
    parts += [("metrics", metrics_section(record)), ("protocol", protocol_section(record)),
              ("data", data_section(record))]
    if lists := label_issues_section(record, images=show_images):
        parts.append(("label-issues", lists))
    gradcam = gradcam_section(record, img, record.path / layout.PLOTS) if show_images else \
        section("gradcam", "Grad-CAM", LEFT_OUT)
    parts += [("gradcam", gradcam), ("claims", claims_section(record))]
    if record.external:
        parts.append(("external", external_section(record)))
    parts.append(("config", config_section(record)))
    title = f"bamnet run {record.name}" + (" (LEAKY protocol)" if record.leaky else "")
    html = render(title, DISCLAIMER, [(k, SECTION_TITLES[k], h) for k, h in parts])
    atomic.write_text(out / layout.REPORT, html)
    atomic.write_text(out / layout.MODEL_CARD, model_card(record, verdict))
    if redact:  # a figure an earlier shareable report wrote (say, with --images) must not stay
        for stale in set(plots.glob("*.png")) - set(written):
            stale.unlink(missing_ok=True)
    return ReportFiles(html=out / layout.REPORT, model_card=out / layout.MODEL_CARD,
                       plots=written, sections=[k for k, _ in parts], verdict=verdict.to_dict())

