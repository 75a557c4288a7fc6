"""Write a run's report: ``plots/*.png``, ``report.html`` (self-contained) and ``model-card.md``.

Every file is written atomically, so a report interrupted half-way leaves the
previous one whole; running it again rewrites all three from the run folder.
:func:`build_reports` reads the folder once and computes the verdict once, for
the report and the shareable copy ``[report] redact`` asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from .._util import atomic
from ..errors import RunError
from ..runs import layout
from ..runs.integrity import refuse_missing_key
from .audit_lists import label_issues_section
from .audit_sections import generator_figures, generator_quality
from .export_section import export_section
from .headline import threshold_sentence
from .loso import is_loso_folder, write_loso_report
from .model_card import model_card as card_markdown
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
from .standards import StandardsFiles, checklists_section, write_standards
from .tables import metrics_table
from .verdict import Verdict, verdict_of
from .verdict_render import headline_html, verdict_html

SECTION_TITLES = {
    "verdict": "Verdict", "headline": "Headline metrics",
    "protocol": "Protocol", "data": "Data and audit", "label-issues": "Label issues and outliers",
    "metrics": "Metrics", "plots": "Plots",
    "gradcam": "Grad-CAM", "probes": "Shortcut probes", "generator": "Generator",
    "claims": "Claimed vs reproduced", "export": "Export",
    "external": "External validation", "config": "Config",
    "checklists": "Appendix: reporting checklists",
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
    verdict: Verdict | None = None
    standards: StandardsFiles = field(default_factory=StandardsFiles)


def external_section(record: RunRecord) -> str:
    """Metrics of every ``bamnet evaluate`` on another dataset, with what it shared with the run."""
    body = []
    settings = record.config.report
    for name, metrics in record.external.items():
        overlap = metrics.overlap
        origin = escape(metrics.data.origin if metrics.data else name)
        if overlap is not None:
            body.append(f"<p><b>{escape(name)}</b> ({origin}): {overlap.images} images; "
                        f"{overlap.excluded} excluded ({escape(overlap.sentence)}); metrics "
                        f"on the {overlap.kept} that are neither, at threshold "
                        f"{escape(threshold_sentence(metrics))}.</p>")
        else:
            body.append(f'<p class="bad"><b>{escape(name)}</b> ({origin}) was evaluated before '
                        "bamnet checked overlap: it may hold images the run saw, so it is not "
                        "called external.</p>")
        for split, results in metrics.splits.items():
            body.append(f"<h3>{escape(name)} ({escape(split)}: {results.images} "
                        f"images)</h3>{metrics_table(results, settings)}")
    return section("external", "External validation", "".join(body))


def build_reports(run_dir: str | Path, *, redact: bool = False, images: bool = False,
                  checklists: Sequence[str] = (), model_card: str | None = None,
                  ) -> tuple[ReportFiles, ReportFiles | None]:
    """The report a command asks for, and the shareable copy the run's ``[report] redact``
    asks for (None when it does not, or when ``redact`` already made it).

    ``checklists`` (``claim``, ``tripod-ai``) and ``model_card`` (``chai``) are written
    beside the report the command asks for (into ``shareable/`` with ``redact``).
    The folder is read once; the verdict is computed once per record shown.

    :raises RunError: when it is not a run folder or a file in it is damaged.
    :raises ConfigError: an unknown checklist or model card format.
    """
    from .standards import check_requests

    check_requests(checklists, model_card)
    if is_loso_folder(run_dir):
        return loso_reports(Path(run_dir), redact=redact, checklists=checklists,
                            model_card=model_card), None
    record = read_run(run_dir)
    files = build_report(record, redact=redact, images=images, checklists=checklists,
                         model_card=model_card)
    wanted = record.config.report
    shared = build_report(record, redact=True, images=wanted.images) \
        if wanted.redact and not redact else None
    return files, shared


def loso_reports(folder: Path, *, redact: bool, checklists: Sequence[str],
                 model_card: str | None) -> ReportFiles:
    """The page and card of a leave-one-source-out folder (no redacted copy, checklist or
    other card: those describe one model; each held-out run has its own)."""
    asked = [flag for flag, on in (("--redact", redact), ("--checklist", bool(checklists)),
                                   ("--model-card", model_card is not None)) if on]
    if asked:
        raise RunError(f"{folder} holds leave-one-source-out runs, not one model: "
                       f"{', '.join(asked)} {'describes' if len(asked) == 1 else 'describe'} "
                       "one run",
                       hint=f"bamnet report {folder}/<run> {' '.join(asked)} (one held-out "
                            "run), or bamnet report without them for the folder's page")
    html, card, verdict = write_loso_report(folder)
    return ReportFiles(html=html, model_card=card, sections=["verdict", "sources"],
                       verdict=verdict)


def build_report(run: str | Path | RunRecord, *, redact: bool = False,
                 images: bool = False, verdict: Verdict | None = None,
                 checklists: Sequence[str] = (), model_card: str | None = None) -> ReportFiles:
    """Build the report of a run folder (its path, or the record already read from it).

    :param redact: write the shareable report instead, into ``shareable/`` of the
        run folder: patient ids as keyed pseudonyms, paths as source and index, no
        images (:mod:`bamnet_core.report.redact`).
    :param images: with ``redact``, keep the Grad-CAM overlays and thumbnails.
    :param verdict: the record's verdict, when the caller computed it already.
    :param checklists: reporting checklists to write too (:mod:`.standards`).
    :param model_card: a model-card format to write too (``chai``).
    :raises RunError: when it is not a run folder or a file in it is damaged.
    """
    record = run if isinstance(run, RunRecord) else read_run(run)
    out = record.path
    if redact:
        from .redact import redact_record

        refuse_missing_key(record.path, why="a shareable copy would name its patients under a "
                                            "new key")
        record, out, verdict = redact_record(record), record.path / layout.SHAREABLE, None
    show_images = images or not redact
    written: list[Path] = []

    def img(file: str, png: bytes | None, alt: str) -> str:
        if png is None:
            return ""
        path = out / file
        atomic.write_bytes(path, png)
        written.append(path)
        return img_tag(png, alt)

    verdict = verdict or verdict_of(record)
    # reading order: the verdict, the headline numbers, the probes, the plots, the details
    parts = [("verdict", section("verdict", "Verdict: can the headline number be trusted?",
                                 verdict_html(verdict))),
             ("headline", section("headline", "Headline metrics", headline_html(verdict))),
             ("probes", probes_section(record, img)), ("plots", plots_section(record, img))]
    if made := generator_quality(record):
        shown = "".join(f"<p><code>{escape(name)}</code></p>" + img_tag(png, name)
                        for name, png in generator_figures(record.path)) if show_images else ""
        parts.append(("generator", section("generator", "Generator", made + shown)))
    parts += [("metrics", metrics_section(record)), ("export", export_section(record)),
              ("protocol", protocol_section(record)),
              ("data", data_section(record))]
    if lists := label_issues_section(record, images=show_images):
        parts.append(("label-issues", lists))
    gradcam = gradcam_section(record, img, record.path / layout.PLOTS) if show_images else \
        section("gradcam", "Grad-CAM", LEFT_OUT)
    parts += [("gradcam", gradcam), ("claims", claims_section(record))]
    if record.external:
        parts.append(("external", external_section(record)))
    parts.append(("config", config_section(record)))
    parts.append(("checklists", checklists_section(record, redacted=redact)))
    title = f"bamnet run {record.name}" + (" (LEAKY protocol)" if record.leaky else "")
    html = render(title, DISCLAIMER, [(k, SECTION_TITLES[k], h) for k, h in parts])
    atomic.write_text(out / layout.REPORT, html)
    atomic.write_text(out / layout.MODEL_CARD, card_markdown(record, verdict))
    standards = write_standards(record, out, checklists=checklists, model_card=model_card,
                                redacted=redact, verdict=verdict)
    if redact:  # a figure an earlier shareable report wrote (say, with --images) must not stay
        for stale in set((out / layout.PLOTS).glob("*.png")) - set(written):
            stale.unlink(missing_ok=True)
    return ReportFiles(html=out / layout.REPORT, model_card=out / layout.MODEL_CARD,
                       plots=written, sections=[k for k, _ in parts], verdict=verdict,
                       standards=standards)

