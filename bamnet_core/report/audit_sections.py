"""Report sections from the audit and the generator: the shortcut baseline, subgroups, GAN quality.

Each reads plain data from ``metrics.json`` and renders it; absent data gives an empty string,
so the sections appear only when the run computed them.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .record import RunRecord
from .support import show
from .tables import fmt, table
from .verdict import report_settings


def shortcut_and_subgroups(record: RunRecord) -> str:
    """The image-property baseline beside the model, and metrics by subgroup."""
    body = []
    baseline = record.metrics.get("shortcut_baseline")
    if isinstance(baseline, dict) and baseline.get("sentence"):
        cls = "bad" if (baseline.get("baseline") or {}).get("auc", 0) >= 0.75 else ""
        body.append(f"<h3>Image-property baseline</h3><p class=\"{cls}\">"
                    f"{escape(baseline['sentence'].capitalize())} (the baseline sees only "
                    "size, colour mode, format, intensity, borders and DICOM tags).</p>")
    groups = record.metrics.get("subgroups")
    if isinstance(groups, dict) and groups.get("by"):
        body.append(f"<h3>Subgroups ({escape(str(groups.get('split')))} split)</h3>")
        settings = report_settings(record)
        rows = []
        for by, entries in groups["by"].items():
            for e in entries:
                pos = int(e.get("positives") or 0)
                counts = {"pos": pos, "neg": int(e.get("images") or 0) - pos}
                cells = [show(k, e.get(k), e.get("accuracy_interval") if k == "accuracy"
                              else None, counts, min_positives=settings.min_positives,
                              min_negatives=settings.min_negatives)
                         for k in ("accuracy", "sensitivity", "specificity", "auc")]
                rows.append((escape(by), escape(str(e.get("group"))), fmt(e.get("images")),
                             str(pos), *[escape(f"{c.value} {c.interval}" if c.method else
                                                c.value) for c in cells],
                             "<b class=\"bad\">worse</b>" if e.get("worse") else "no"))
        body.append(table(("by", "group", "images", "positives", "accuracy [95%]",
                           "sensitivity [95%]", "specificity [95%]", "ROC AUC",
                           "significantly worse than the rest?"), rows))
    return "".join(body)


def generator_quality(record: RunRecord) -> str:
    """What the generator made and how its images compare with the real ones."""
    made = record.metrics.get("generator")
    quality = record.metrics.get("gan_quality")
    if not isinstance(made, dict) and not isinstance(quality, dict):
        return ""
    body = ["<h3>Generator</h3>"]
    if isinstance(made, dict):
        body.append(f"<p>{escape(str(made.get('name')))} made {fmt(made.get('synthetic'))} "
                    f"images of {escape(str(made.get('class')))!s} from "
                    f"{fmt(made.get('real'))} real training images; they are in the training "
                    "split only.</p>")
    for name, result in (quality or {}).items():
        if not isinstance(result, dict) or "fid" not in result:
            reason = (result or {}).get("skipped") or (result or {}).get("error") \
                if isinstance(result, dict) else None
            if reason:
                body.append(f"<p>{escape(name)}: {escape(str(reason))}</p>")
            continue
        floor: dict[str, Any] = result.get("real_vs_real") or {}
        memo: dict[str, Any] = result.get("memorisation") or {}
        body.append(table(("measure", "synthetic vs real", "real vs real (floor)"), [
            ("FID", fmt(result.get("fid")), fmt(floor.get("fid"))),
            ("KID", fmt(result.get("kid")), fmt(floor.get("kid")))]))
        body.append(f"<p>Feature space: {escape(str(result.get('space')))} (FID compares only "
                    f"within one space). Near-copies of training images: "
                    f"{escape(str(memo.get('near_copies', '-')))}.</p>")
    return "".join(body)
