"""The report's "Label issues and outliers" section: the deep audit's ranked lists, with thumbnails.

It reads ``deep`` from ``data-audit.json`` (written when ``[audit] label_issues`` or
``outliers`` is on) and shows the first ``LIMIT`` images of each list with a
thumbnail decoded from the image file now, so ``bamnet report RUN`` rebuilds it
from the run folder and the data. The full lists (the first 100 of each) stay
in ``data-audit.json``; the page holds only the top of each, so its size is
bounded whatever the dataset's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from html import escape

from ..runs.audit_file import RankedImage, RankedList
from ..runs.paths import from_record
from .record import RunRecord
from .sections import collapsed, section
from .tables import fmt, table
from .thumbnails import Thumbnail, thumbnail, thumbnail_cell

KEY = "label-issues"
TITLE = "Label issues and outliers"
LIMIT = 12
ADVICE = ("These lists are leads, not verdicts: look at each image, and where its label is "
          "wrong or it is not a frontal chest X-ray, fix or remove its row in the manifest and "
          "run again. Do not drop images just because they are listed: hard, correct cases are "
          "listed too, and removing them flatters the metrics.")

Thumbs = Callable[[str], Thumbnail]


def common_folder(paths: Sequence[str]) -> str | None:
    """The folder all ``paths`` share, or None when they share none worth naming."""
    folders = [os.path.dirname(p) for p in paths if os.path.isabs(p)]
    if not folders or len(folders) != len(paths):
        return None
    try:
        root = os.path.commonpath(folders)
    except ValueError:
        return None
    return root if root not in (os.sep, "") else None


def shown_path(path: str, root: str | None) -> str:
    """``path`` relative to ``root`` (when given), in a ``<code>`` cell with the full path."""
    short = os.path.relpath(path, root) if root else path
    return f'<code title="{escape(path)}">{escape(short)}</code>'


def _who(row: RankedImage) -> str:
    parts = [str(v) for v in (row.source, row.patient_id) if v not in (None, "")]
    return escape(" / ".join(parts)) or "&ndash;"


def _intro(entry: RankedList, what: str, flagged: str, count: int | None) -> str:
    ranked = entry.ranked
    text = f"{fmt(count)} of {fmt(entry.images)} images {flagged}"
    if not ranked:
        return f"<p>{text}.</p>"
    # label issues rank the flagged images only; outliers rank every image
    total = count if what == "label_issues" else entry.images
    kept = "the whole ranked list" if len(ranked) >= int(total or 0) else \
        f"the first {len(ranked)} of the ranked list"
    return (f"<p>{text}; the first {min(LIMIT, len(ranked))} are shown here. "
            f"<code>data-audit.json</code> holds {kept} "
            f"(<code>deep.{escape(what)}.ranked</code>).</p>")


def _skipped(entry: RankedList, name: str) -> str | None:
    if entry.status == "done":
        return None
    reason = entry.reason or entry.error or entry.status or "not computed"
    return f"<p>{escape(name)}: skipped ({escape(str(reason))}).</p>"


def issues_table(entry: RankedList, root: str | None, thumbs: Thumbs) -> str:
    """The label issues, most suspicious first (lowest confidence in the given label)."""
    skipped = _skipped(entry, "Label issues")
    if skipped:
        return skipped
    body = [f"<p>cleanlab's confident learning on out-of-sample probabilities of a logistic "
            f"regression on frozen features (folds grouped by patient; their ROC AUC "
            f"{fmt(entry.oof_auc)}: the lower, the noisier this list).</p>",
            _intro(entry, "label_issues", "look mislabelled", entry.issues)]
    rows = [(str(rank), thumbnail_cell(thumbs(r.path), f"label issue {rank}"),
             shown_path(r.path, root), escape(str(r.label)),
             escape(str(r.suggested)), _who(r), fmt(r.self_confidence, 4))
            for rank, r in enumerate(entry.ranked[:LIMIT], 1)]
    if rows:
        body.append(table(("rank", "image", "path", "label", "data suggests", "source / patient",
                           "confidence in label"), rows, "ranked"))
    return "".join(body)


def outliers_table(entry: RankedList, root: str | None, thumbs: Thumbs) -> str:
    """The outliers, most unusual for their class first."""
    skipped = _skipped(entry, "Outliers")
    if skipped:
        return skipped
    body = [f"<p>Mean distance to the {fmt(entry.neighbours)} nearest images of the same "
            f"class in frozen-feature space, over the class median (1 = typical); "
            f"<b>unusual</b> is more than {fmt(entry.cut, 1)} robust standard deviations "
            "above the median.</p>", _intro(entry, "outliers", "are unusual", entry.unusual)]
    rows = [(str(rank), thumbnail_cell(thumbs(r.path), f"outlier {rank}"),
             shown_path(r.path, root), escape(str(r.label)), _who(r),
             fmt(r.score), '<b class="bad">unusual</b>' if r.unusual else "typical")
            for rank, r in enumerate(entry.ranked[:LIMIT], 1)]
    if rows:
        body.append(table(("rank", "image", "path", "label", "source / patient",
                           "distance score", "reading"), rows, "ranked"))
    return "".join(body)


def label_issues_section(record: RunRecord, *, images: bool = True) -> str:
    """The section, or an empty string when the run ranked neither label issues nor outliers.

    :param images: show thumbnails; without, each image is a placeholder (a redacted report).
    """
    deep = record.audit.deep if record.audit else None
    if deep is None:
        return ""
    parts = [(name, entry) for name, entry in (("label_issues", deep.label_issues),
                                               ("outliers", deep.outliers)) if entry is not None]
    if not parts:
        return ""
    paths = [r.path for _, entry in parts for r in entry.ranked[:LIMIT] if r.path]
    root = common_folder(paths)
    made: dict[str, Thumbnail] = {}

    def thumbs(path: str) -> Thumbnail:
        if not images:
            return Thumbnail(None, problem="images are left out of a redacted report")
        if path not in made:
            made[path] = thumbnail(from_record(record.path, path))  # run-made: relative
        return made[path]

    body = [f"<p><b>{escape(ADVICE)}</b></p>"]
    if root:
        body.append(f"<p>Paths are relative to <code>{escape(root)}</code>.</p>")
    for name, entry in parts:
        if name == "label_issues":
            body.append(collapsed("Label issues", issues_table(entry, root, thumbs)))
        else:
            body.append(collapsed("Outliers", outliers_table(entry, root, thumbs)))
    return section(KEY, TITLE, "".join(body))
