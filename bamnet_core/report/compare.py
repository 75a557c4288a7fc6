"""``bamnet compare``: several runs side by side in one self-contained HTML page.

For each run: its protocol, its headline metrics with intervals, and the
shortcut probes, so "leaky vs patient split" or "with vs without GAN" reads
off one table. The paper's claim heads the claimed-vs-reproduced table. A
``bamnet loso`` folder stands for its held-out runs: each is a column, and its
verdict holds the line its evaluators drew for the source it never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from .._util import atomic
from ..errors import RunError
from ..runs import layout
from ..runs.files import MetricsFile, SplitMetrics
from .loso import is_loso_folder, read_loso
from .page import render
from .record import RunRecord, read_run
from .run_summary import paper_comparison, run_description
from .sections import DISCLAIMER, section
from .tables import METRIC_ROWS, claimed_vs_reproduced, fmt, supported_cell, table
from .verdict import verdict_of


def _headline(record: RunRecord) -> tuple[str, SplitMetrics | None]:
    """The headline split's name and its metrics (None when the run did not evaluate it)."""
    split = record.headline_split or "val"
    return split, record.splits.get(split)


def _probe_cells(record: RunRecord) -> tuple[str, str]:
    split = _headline(record)[0]
    overall = (record.results(split, "source-probe") or {}).get("overall")
    occ = record.results(split, "occlusion") or {}
    return (f"{fmt(overall['accuracy'])} (chance {fmt(overall['chance'])})" if overall
            else "&ndash;", fmt(occ.get("auc_masked")))


def _baseline_cell(metrics: MetricsFile | None) -> str:
    """The shortcut baseline's AUC beside the model's, on the split the run reports."""
    found = metrics.shortcut_baseline if metrics else None
    if found is None or found.baseline_auc is None:
        return "&ndash;"
    return (f"{fmt(found.baseline_auc)} (model {fmt(found.model_auc)}, "
            f"{escape(found.split or '')})")


def generator_cell(record: RunRecord) -> str:
    """``off``, ``on (made N)`` or ``on`` (a run that stopped before the generator)."""
    if not record.config.generator.enabled:
        return "off"
    made = record.metrics.generator if record.metrics else None
    return f"on (made {made.synthetic})" if made is not None else "on"


def default_output(run_dirs: Sequence[str | Path]) -> Path:
    """Where ``bamnet compare`` writes without ``-o``: ``compare.html`` in the first run's
    folder, beside its ``report.html``; never the working directory, and never the folder
    that holds the runs, where ``bamnet compare runs/*`` would take it for a run."""
    return Path(run_dirs[0]) / layout.COMPARE


def compared_runs(run_dirs: Sequence[str | Path]) -> list[Path]:
    """The run folders to compare: a leave-one-source-out folder stands for its held-out
    runs, each a column whose verdict holds its own source's line.

    :raises RunError: when a leave-one-source-out folder's ``loso.json`` is damaged.
    """
    out: list[Path] = []
    for d in map(Path, run_dirs):
        if is_loso_folder(d):
            out += [d / row.run for row in read_loso(d).sources]
        else:
            out.append(d)
    return out


def compare_runs(run_dirs: Sequence[str | Path], output: str | Path) -> Path:
    """Write the comparison page of ``run_dirs`` to ``output``.

    :raises RunError: for fewer than two runs, a folder that is not a run, or an
        output that cannot be written.
    """
    page = comparison_page(run_dirs)
    out = Path(output)
    try:
        atomic.write_text(out, page)
    except OSError as exc:
        raise RunError(f"cannot write {out}: {exc.strerror or exc}",
                       hint="pass a writable path with -o") from None
    return out


def comparison_page(run_dirs: Sequence[str | Path]) -> str:
    """The comparison page of ``run_dirs``, as HTML text.

    :raises RunError: for fewer than two runs, or a folder that is not a run.
    """
    run_dirs = compared_runs(run_dirs)
    if len(run_dirs) < 2:
        raise RunError("compare needs at least two run folders",
                       hint="bamnet compare runs/A runs/B [-o compare.html]")
    records = [read_run(d) for d in run_dirs]
    header = ["run", "verdict", "data and model", "protocol", "headline split", "generator"]
    verdicts = [verdict_of(r) for r in records]
    rows = []
    for r, v in zip(records, verdicts, strict=True):
        split, _ = _headline(r)
        rows.append((escape(r.name), f'<b class="lv-{v.level}">{escape(v.reading)}</b>',
                     escape(run_description(r)),
                     "image-level (LEAKY)" if r.leaky else "patient-grouped",
                     escape(split), generator_cell(r)))
    runs = table(header, rows)
    keys = list(dict.fromkeys(e.key for v in verdicts for e in v.evidence))
    labels = {e.key: e.label for v in verdicts for e in v.evidence}
    evidence_rows = []
    for key in keys:
        cells = []
        for v in verdicts:
            e = next((e for e in v.evidence if e.key == key), None)
            cells.append("&ndash;" if e is None else
                         f'<span class="lv-{e.level}">{escape(e.level)}</span>: '
                         f"{escape(e.finding)}")
        evidence_rows.append((escape(labels[key]), *cells))
    metric_rows = []
    for label, evaluator, key in METRIC_ROWS:
        cells = []
        for r in records:
            value, ci = supported_cell(_headline(r)[1], evaluator, key, r.config.report)
            cells.append(f"{value} {ci}")
        if any(not c.startswith("–") for c in cells):
            metric_rows.append((escape(label), *cells))
    probe_rows = [("source probe accuracy", *[_probe_cells(r)[0] for r in records]),
                  ("ROC AUC with the lungs hidden", *[_probe_cells(r)[1] for r in records]),
                  ("ROC AUC of the outside-the-lungs baseline (image properties outside the lungs)",
                   *[_baseline_cell(r.metrics) for r in records])]
    names = [r.name for r in records]
    sections = [
        ("runs", "Runs", section("runs", "Runs", runs)),
        ("verdict", "Verdict", section("verdict", "Verdict, line by line",
                                       table(["evidence", *names], evidence_rows))),
        ("metrics", "Headline metrics", section("metrics", "Headline metrics (95% intervals)",
                                                table(["metric", *names], metric_rows))),
        ("probes", "Shortcut probes", section("probes", "Shortcut probes",
                                              table(["probe", *names], probe_rows))),
        ("claims", "Claimed vs reproduced", section("claims", "Claimed vs reproduced",
            claimed_vs_reproduced([(r.name, r.metrics, r.leaky, run_description(r))
                                   for r in records], [paper_comparison(r) for r in records],
                                  [r.config.report for r in records]))),
    ]
    return render("bamnet: " + " vs ".join(names), DISCLAIMER, sections)
