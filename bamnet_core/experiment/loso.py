"""Leave-one-source-out: retrain without each source and test on it.

``bamnet loso CONFIG`` lists the data once, then runs the experiment
once per source with ``split.hold_out_source`` set to it (train and
validation from the other sources, test = that source), each in its own run
folder under one parent folder (with its report; no ONNX export), and
writes ``loso.json`` / ``loso.csv``: per held-out source, its images, the
classes it has and the test metrics, and the folder's verdict (each held-out
run's evaluators judge its source: a sensitivity or specificity below
``loso_floor`` is evidence that the model does not transfer), shown in the
folder's own ``report.html`` and ``model-card.md``.

When each class comes from its own sources (the paper's data), a held-out
source usually has one class only: its sensitivity (or specificity) is then
the share of its images the model still calls right without ever having seen
that hospital, the number a shortcut cannot fake. ROC-AUC needs both classes
and is left empty otherwise.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._util.csv_text import CsvWriter
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..config.resolved import Config
from ..data.sources import collect_configured
from ..errors import ConfigError, DataError
from ..plugins.manager import PluginHost
from ..report.loso import loso_verdict, stored_verdict, write_loso_report
from ..report.verdict import Verdict
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import LosoFile
from ..runs.split_table import read_split_rows
from .preflight import preflight
from .results import RunResult
from .runner import run_experiment

COLUMNS = ("source", "images", "classes", "accuracy", "sensitivity", "specificity", "roc_auc",
           "run")


@dataclass(frozen=True)
class LosoPlan:
    """The sources to hold out, and the ones skipped for having fewer than ``min_images``."""

    sources: list[str]
    skipped: list[str]
    min_images: int


@dataclass
class LosoResult:
    """Where the runs and their summary are, and the verdict of their held-out results."""

    folder: Path
    runs: dict[str, RunResult]
    summary: LosoFile
    verdict: Verdict


def held_out_sources(config: Config, *, min_images: int) -> tuple[list[str], list[str]]:
    """The sources to hold out, and the ones skipped for having too few images."""
    samples, _ = collect_configured(config.components, config.data.classes)
    counts = Counter(s.source for s in samples)
    if len(counts) < 2:
        raise ConfigError(f"{config.origin}: bamnet loso needs data from two or more sources; "
                          f"this data has {len(counts)} ({', '.join(counts) or 'none'})",
                          hint="list several sources in [data] (a manifest with a source "
                               "column, or [[data.sources]] tables)")
    kept = sorted(s for s, n in counts.items() if n >= min_images)
    return kept, sorted(set(counts) - set(kept))


def _test_classes(run_dir: Path) -> list[str]:
    """The classes among a run's test images (from its ``splits.csv``)."""
    return sorted({row["label"] for row in read_split_rows(rf.RunFolder(run_dir))
                   if row["split"] == "test"})


def _row(source: str, result: RunResult) -> dict[str, Any]:
    test = result.metrics.splits.get("test")
    headline = test.headline if test is not None else None
    metrics = {m.key: m.estimate.value for m in headline.metrics} if headline else {}
    return {"source": source, "images": test.images if test is not None else None,
            "classes": _test_classes(result.run_dir),
            **{k: metrics.get(k) for k in ("accuracy", "sensitivity", "specificity",
                                           "roc_auc")},
            "run": result.run_dir.name}


def summary_csv(summary: LosoFile) -> str:
    """The per-source rows of a LOSO summary as CSV."""
    out = io.StringIO()
    writer = CsvWriter(out, COLUMNS)
    writer.writeheader()
    for row in summary.sources:
        writer.writerow({**row.model_dump(mode="json"), "classes": " ".join(row.classes)})
    return out.getvalue()


def plan_loso(config: Config, host: PluginHost, *, min_images: int = 10) -> LosoPlan:
    """Run the preflight, then list the data for its sources; nothing is written.

    :raises BamnetError: the first check that fails.
    :raises ConfigError: when the data has fewer than two sources.
    """
    preflight(config, host)
    return LosoPlan(*held_out_sources(config, min_images=min_images), min_images=min_images)


def run_loso(config: Config, host: PluginHost, *, output_dir: str | Path = "runs",
             min_images: int = 10, progress: ProgressCallback = silent,
             planned: LosoPlan | None = None) -> LosoResult:
    """Run ``config`` once per held-out source and summarise the test metrics.

    :param min_images: sources with fewer images are not held out (they stay
        in training) and are named in the summary.
    A held-out run the remaining data cannot support (a ``DataError``, such as
    too few images left for the generator) is recorded under ``failed`` and
    the others go on.

    :param planned: what :func:`plan_loso` returned for this config, when the caller
        checked first (the CLI does, before importing Keras); without it, that runs here.
    :raises ConfigError: when the data has fewer than two sources.
    :raises DataError: when every held-out run failed.
    """
    planned = planned or plan_loso(config, host, min_images=min_images)
    sources, skipped, min_images = planned.sources, planned.skipped, planned.min_images
    name = config.run.name
    parent = rf.RunFolder.create(output_dir, f"{name}-loso")
    parent.write_text(layout.CONFIG, config.to_toml())
    runs: dict[str, RunResult] = {}
    failed: dict[str, str] = {}
    for i, source in enumerate(sources):
        progress(ProgressEvent("loso", i, len(sources), f"holding out {source}"))
        try:
            variant = config.with_overrides({"run.name": f"without-{_slug(source)}",
                                             "split.hold_out_source": source,
                                             "export.onnx": False})  # measurements only
            runs[source] = run_experiment(variant, host, output_dir=parent.path,
                                          progress=progress)
        except DataError as exc:  # what is left cannot support this fold (e.g. its GAN)
            failed[source] = exc.message
    progress(ProgressEvent("loso", len(sources), len(sources), "done"))
    summary = LosoFile.model_validate({
        "held_out": sources, "skipped": skipped, "min_images": min_images, "failed": failed,
        "sources": [_row(s, r) for s, r in runs.items()]})
    if runs:  # each held-out run's own line for its source, read as one verdict
        verdict = loso_verdict(parent.path, summary)
        summary = summary.model_copy(update={"verdict": stored_verdict(verdict)})
    parent.write_model(layout.LOSO_JSON, summary)
    if not runs:
        first, message = next(iter(failed.items()))
        raise DataError(f"every held-out run failed, e.g. without {first}: {message}",
                        hint=f"see the run folders in {parent.path}")
    parent.write_text(layout.LOSO_CSV, summary_csv(summary))
    write_loso_report(parent.path, summary, verdict)
    return LosoResult(parent.path, runs, summary, verdict)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:40] or "source"
