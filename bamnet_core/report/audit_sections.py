"""Report sections from the audit and the generator: the shortcut baseline, subgroups, GAN quality.

Each reads the typed ``metrics.json`` of the record and renders it; absent data gives an empty
string, so the sections appear only when the run computed them. A synthetic-image assessor's
results are its own (``dict``), read as such.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from ..runs import layout
from ..runs.metrics_file import SubgroupRow, Subgroups
from .record import RunRecord
from .support import show
from .tables import fmt, table

BASELINES_EXPLAINED = (
    "Two outside-the-lungs figures, two questions: this one is fitted on the run's training "
    "split and "
    "scored on the split the model is scored on, so it compares like with like (the verdict "
    "uses it); the audit's figure under Data and audit is cross-validated over the whole "
    "dataset, grouped by patient, and describes the data before any model.")


def shortcut_and_subgroups(record: RunRecord) -> str:
    """The outside-the-lungs baseline beside the model, and metrics by subgroup."""
    body: list[str] = []
    if record.metrics is None:
        return ""
    baseline = record.metrics.shortcut_baseline
    if baseline is not None and baseline.sentence:
        cls = "bad" if (baseline.baseline_auc or 0) >= 0.75 else ""
        sentence, reads = baseline.sentence, baseline.reads
        if not reads:  # an older run, whose stored sentence claims it never saw the lungs
            reads = "size, colour mode, format, and intensity, borders and DICOM tags over " \
                "the whole image, lungs included"
            sentence = (f"image properties read over the whole image reach ROC-AUC "
                        f"{fmt(baseline.baseline_auc, 2)} on the {baseline.split} split; yours "
                        f"{fmt(baseline.model_auc, 2)}")
        body.append(f"<h3>{escape(baseline.name[:1].upper() + baseline.name[1:])}, test split"
                    f"</h3><p class=\"{cls}\">"
                    f"{escape(sentence[:1].upper() + sentence[1:])} (the "
                    f"baseline sees only {escape(reads)}).</p>"
                    f"<p class=\"small\">{escape(BASELINES_EXPLAINED)}</p>")
    groups = record.metrics.subgroups
    if groups is not None and groups.by:
        body.append(f"<h3>Subgroups ({escape(str(groups.split))} split)</h3>")
        settings = record.config.report
        rows = []
        for by, entries in groups.by.items():
            for e in entries:
                pos = int(e.positives or 0)
                counts = {"pos": pos, "neg": int(e.images or 0) - pos}
                cells = [show(k, getattr(e, k), e.accuracy_interval if k == "accuracy"
                              else None, counts, min_positives=settings.min_positives,
                              min_negatives=settings.min_negatives)
                         for k in ("accuracy", "sensitivity", "specificity", "auc")]
                rows.append((escape(by), escape(str(e.group)), fmt(e.images),
                             str(pos), *[escape(f"{c.value} {c.interval}" if c.method in
                                                ("bootstrap", "exact") else c.value)
                                         for c in cells],
                             _worse_cell(e)))
        body.append(table(("by", "group", "images", "positives", "accuracy [95%]",
                           "sensitivity [95%]", "specificity [95%]", "ROC AUC",
                           "significantly worse than the rest?"), rows))
        body.append(f"<p class=\"small\">{escape(subgroup_test_text(groups))}</p>")
    return "".join(body)


def subgroup_test_text(groups: Subgroups) -> str:
    """The sentence that names the test behind "worse"."""
    if groups.test is None:
        return ("Worse: the patient-bootstrap interval of the group's accuracy minus the rest's "
                "lies below 0 (a run made before the corrected test; accuracy follows the "
                "class mix, and the groups were not corrected for testing many).")
    return (f"Worse: {groups.test}; {groups.tests} tests on this split. Accuracy is shown "
            "but not tested: it follows a group's class mix.")


def _worse_cell(row: SubgroupRow) -> str:
    flagged = [c for c in row.comparisons if c.worse]
    if flagged:
        return "<b class=\"bad\">worse: " + escape(", ".join(
            f"{'ROC AUC' if c.metric == 'auc' else c.metric} ({c.p_shown})"
            for c in flagged)) + "</b>"
    if row.worse:
        return "<b class=\"bad\">worse</b>"
    tested = [("AUC" if c.metric == "auc" else c.metric[:4] + ".") for c in row.comparisons]
    return "no" + (f" ({', '.join(tested)} tested)" if tested else "")


def generator_quality(record: RunRecord) -> str:
    """What the generator made and how its images compare with the real ones."""
    made = record.metrics.generator if record.metrics else None
    quality = record.metrics.gan_quality if record.metrics else None
    if made is None and quality is None:
        return ""
    body = []
    if made is not None:
        if made.synthetic == 0:
            body.append(f"<p>{escape(str(made.name))} was on but made <b>0</b> images: "
                        f"{escape(str(made.note or 'nothing to synthesise'))} (real "
                        f"{escape(str(made.balance_class))} training images: "
                        f"{fmt(made.real)}, target {fmt(made.target)}). "
                        "Training used real images only.</p>")
        else:
            where = (" Its sample grids and losses are in <code>generator/</code> of the run "
                     "folder." if (record.path / layout.GENERATOR).is_dir() else "")
            body.append(f"<p>{escape(str(made.name))} made {made.synthetic} images of "
                        f"{escape(str(made.balance_class))} from {fmt(made.real)} real "
                        f"training images; they are in the training split only.{where}</p>")
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
        body.append(f"<p>{fid_reading(result.get('fid'), floor.get('fid'))}</p>")
        body.append(f"<p>Feature space: {escape(str(result.get('space')))} (FID compares only "
                    f"within one space). Near-copies of training images: "
                    f"{escape(str(memo.get('near_copies', '-')))}.</p>")
    return "".join(body)


def fid_reading(fid: float | None, floor: float | None) -> str:
    """One sentence on what the FID gap to the real-vs-real floor means."""
    if not isinstance(fid, (int, float)) or not isinstance(floor, (int, float)):
        return "FID could not be compared with its floor."
    ratio = fid / floor if floor > 0 else float("inf")
    return (f"The synthetic images sit {fid:.3g} from the real ones in feature space, where two "
            f"halves of the real images sit {floor:.3g} apart"
            + (f" ({ratio:.0f} times the floor)" if ratio != float("inf") and ratio >= 2 else "")
            + ": " + ("the generator's images are clearly unlike real X-rays to this model: what "
                      "they add to training is images of that kind"
                      if ratio >= 2 else "the generator's images are close to real ones here")
            + ".")


def generator_figures(run_path: Path) -> list[tuple[str, bytes]]:
    """The PNGs the generator wrote in its folder: the last of each subfolder (newest samples).

    The generator owns the names inside its folder, so the report does not spell them.
    """
    folder = run_path / layout.GENERATOR
    if not folder.is_dir():
        return []
    found: dict[Path, Path] = {}
    images = run_path / layout.GENERATOR_IMAGES  # the synthetic images themselves: not figures
    for png in sorted(folder.rglob("*.png")):
        if png.is_relative_to(images):
            continue
        if png.is_file() and not png.is_symlink() and png.stat().st_size < 8_000_000:
            found[png.parent] = png  # sorted: the last one wins (the latest epoch)
    return [(str(p.relative_to(run_path)), p.read_bytes()) for p in found.values()]
