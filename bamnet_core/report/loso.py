"""The folder ``bamnet loso`` writes: its verdict, ``report.html`` and ``model-card.md``.

A leave-one-source-out folder holds one run per held-out source, each trained
without that source and tested on it alone, and ``loso.json``. It is not one
model: its page says whether a model trained this way holds up on a hospital it
never saw. Each held-out run's evaluators judge its source (the line with key
``loso``, drawn by an evaluator such as the built-in ``per-source`` against its
``loso_floor``); the folder's verdict is those lines, one per source, read by
the same rule as a run's (the worst level counts), plus an ``info`` line for
each source that was not judged and why.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from .._util import atomic
from ..contract.evidence import EvidenceLine, number_text
from ..errors import RunError
from ..runs import layout
from ..runs.files import LosoFile
from ..runs.folder import RunFolder
from ..runs.parent_files import HeldOutRow, LosoVerdict
from .page import render
from .record import read_run
from .sections import DISCLAIMER, section
from .tables import fmt, table
from .verdict import Verdict, overall
from .verdict_evidence import from_evaluators
from .verdict_render import verdict_html, verdict_markdown

LOSO_KEY = "loso"
SENTENCES = {
    "some": "On a source it never saw, a model trained this way fails: it learned the sources, "
            "not only the disease",
    "strong": "On a source it never saw, a model trained this way fails: it learned the "
              "sources, not only the disease",
    "none": "Every held-out source kept its sensitivity and specificity at or above the floor: "
            "models trained this way hold up on the hospitals these sources stand for",
    "unchecked": "No held-out source was judged: nothing here says whether a model trained "
                 "this way holds up on a hospital it never saw",
}
ABOUT = ("Leave one source out: one model per source, each trained and validated without that "
         "source and tested on its images alone. No model here is the one to use; together "
         "they show whether a model trained this way holds up on a hospital it never saw. A "
         "source with one class has no ROC AUC: its sensitivity (or specificity) is the share "
         "of its images the model still gets right.")


def is_loso_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder ``bamnet loso`` made (it holds ``loso.json``)."""
    return (Path(path) / layout.LOSO_JSON).is_file()


def read_loso(path: str | Path) -> LosoFile:
    """``loso.json`` of a leave-one-source-out folder.

    :raises RunError: when it is damaged or off its schema.
    """
    return RunFolder(Path(path)).read_model(layout.LOSO_JSON, LosoFile)


def _unjudged(row: HeldOutRow, why: str) -> EvidenceLine:
    rates = f"sens {number_text(row.sensitivity)}, spec {number_text(row.specificity)}"
    return EvidenceLine(key=f"{LOSO_KEY}-{row.source}", label=f"held out: {row.source}",
                        level="info", finding=f"{rates} on its {row.images} images, not judged",
                        meaning=why)


def held_out_line(folder: Path, row: HeldOutRow) -> EvidenceLine:
    """The verdict line that the run holding ``row.source`` out drew for it, relabelled
    with the source; an ``info`` line saying why when there is none."""
    try:
        drawn = [e for e in from_evaluators(read_run(folder / row.run)) if e.key == LOSO_KEY]
    except RunError as exc:
        return _unjudged(row, f"its run folder {row.run} cannot be read: {exc.message}")
    if not drawn:
        return _unjudged(row, "no evaluator of its run judged held-out sources (none that "
                         f"draws a {LOSO_KEY!r} line is on in the config, or the run was made "
                         "before they did)")
    return drawn[0].model_copy(update={"key": f"{LOSO_KEY}-{row.source}",
                                       "label": f"held out: {row.source}"})


def loso_verdict(folder: str | Path, summary: LosoFile) -> Verdict:
    """The verdict of a leave-one-source-out folder: one line per held-out source, one
    ``info`` line per source whose run failed, and one for the sources not held out."""
    folder = Path(folder)
    lines = [held_out_line(folder, row) for row in summary.sources]
    lines += [EvidenceLine(key=f"{LOSO_KEY}-{src}", label=f"held out: {src}", level="info",
                           finding="its run failed", meaning=message)
              for src, message in summary.failed.items()]
    if summary.skipped:
        lines.append(EvidenceLine(
            key=f"{LOSO_KEY}-skipped", label="not held out", level="info",
            finding=", ".join(summary.skipped),
            meaning=f"fewer than {summary.min_images} images each: they stayed in training"))
    reading, _ = overall(lines)
    verdict = Verdict(reading=reading, sentence="", evidence=lines)
    drivers = [e.label for e in lines if e.level == verdict.level]
    sentence = SENTENCES[verdict.level]
    if verdict.level in ("some", "strong") and drivers:
        sentence += f" ({'; '.join(drivers)})"
    verdict.sentence = sentence + "."
    return verdict


def stored_verdict(verdict: Verdict) -> LosoVerdict:
    """The verdict as ``loso.json`` keeps it."""
    return LosoVerdict(reading=verdict.reading, level=verdict.level, sentence=verdict.sentence,
                       evidence=list(verdict.evidence))


def _rows(folder: Path, summary: LosoFile, linked: bool) -> list[tuple[str, ...]]:
    rows = []
    for row in summary.sources:
        run = escape(row.run)
        if linked and (folder / row.run / layout.REPORT).is_file():
            run = f'<a href="{escape(row.run)}/{layout.REPORT}">{run}</a>'
        rows.append((escape(row.source), fmt(row.images), escape(" ".join(row.classes)),
                     fmt(row.accuracy), fmt(row.sensitivity), fmt(row.specificity),
                     fmt(row.roc_auc), run))
    return rows


HEADER = ("held-out source", "images", "classes", "accuracy", "sensitivity", "specificity",
          "ROC AUC", "run (trained without it)")


def loso_page(folder: Path, summary: LosoFile, verdict: Verdict) -> str:
    """``report.html`` of a leave-one-source-out folder."""
    body = [f"<p>{escape(ABOUT)}</p>", table(HEADER, _rows(folder, summary, linked=True))]
    if summary.failed:
        body.append("<p>Runs that failed: " + "; ".join(
            f"{escape(s)} ({escape(m)})" for s, m in summary.failed.items()) + "</p>")
    if summary.skipped:
        body.append(f"<p>Not held out (fewer than {summary.min_images} images): "
                    f"{escape(', '.join(summary.skipped))}.</p>")
    sections = [("verdict", "Verdict", section(
                    "verdict", "Verdict: does a model trained this way hold up on a hospital "
                    "it never saw?", verdict_html(verdict))),
                ("sources", "Held-out sources", section("sources", "Held-out sources",
                                                        "".join(body)))]
    return render(f"bamnet: leave one source out ({folder.name})", DISCLAIMER, sections)


def loso_card(folder: Path, summary: LosoFile, verdict: Verdict) -> str:
    """``model-card.md`` of a leave-one-source-out folder: what it tested, not a model."""
    lines = [f"# Leave one source out: {folder.name}", "", ABOUT, "", *verdict_markdown(verdict),
             "## Held-out sources", "", "| " + " | ".join(HEADER) + " |",
             "|" + "---|" * len(HEADER)]
    for row in summary.sources:
        cells = [row.source, str(row.images), " ".join(row.classes),
                 *(number_text(v, 3) for v in (row.accuracy, row.sensitivity,
                                               row.specificity, row.roc_auc)), row.run]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Each run's own model card and report are in its folder.", ""]
    return "\n".join(lines)


def write_loso_report(folder: str | Path, summary: LosoFile | None = None,
                      verdict: Verdict | None = None) -> tuple[Path, Path, Verdict]:
    """Write ``report.html`` and ``model-card.md`` of a leave-one-source-out folder.

    :returns: the page, the card and the verdict they show.
    :raises RunError: when ``loso.json`` is damaged.
    """
    folder = Path(folder)
    summary = summary or read_loso(folder)
    verdict = verdict or loso_verdict(folder, summary)
    html, card = folder / layout.REPORT, folder / layout.MODEL_CARD
    atomic.write_text(html, loso_page(folder, summary, verdict))
    atomic.write_text(card, loso_card(folder, summary, verdict))
    return html, card, verdict
