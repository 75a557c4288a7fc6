"""The data stage: list the configured data and split it; kept on resume from ``split.json``.

A new run plans its data (:func:`plan_data`: list, limit, split, in memory)
before its folder exists, so that checks on the split (can the generator
balance this class?) refuse a run before anything is written. The stage then
records the plan: ``split.json`` and ``splits.csv``. Original data is named
by its absolute canonical path, so the run means the same from any directory.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import time

from ..config.resolved import Config
from ..contract.sample import Sample
from ..data.sources import collect_configured
from ..data.splits import PatientSplit, split_holding_out, split_samples
from ..data.subset import limit_per_class
from ..errors import RunError
from ..runs import layout
from ..runs.paths import canonical
from ..runs.split_table import read_split_rows
from . import stage_records as records
from .context import RunContext
from .results import DataPlan, DataResult
from .stages import Stage


def plan_data(config: Config) -> DataPlan:
    """List the configured data (paths made canonical), limit it per class, and split it."""
    start = time.perf_counter()
    samples, notes = collect_configured(config.components, config.data.classes)
    samples = [dataclasses.replace(s, path=canonical(s.path)) for s in samples]
    if config.data.limit_per_class is not None:
        samples = limit_per_class(samples, config.data.limit_per_class, config.run.seed)
    split = _split(config, samples, config.split_seed)
    return DataPlan(split, tuple(notes), time.perf_counter() - start)


def _split(config: Config, samples: list[Sample], seed: int) -> PatientSplit:
    """The configured split: by patient or image, with a held-out source when asked."""
    options = config.split
    if options.hold_out_source:
        return split_holding_out(samples, options.hold_out_source, val=options.val,
                                 seed=seed, by=options.by)
    return split_samples(samples, val=options.val, test=options.test, seed=seed,
                         by=options.by)


class DataStage(Stage):
    """List and split the data; on resume, the split of ``split.json``."""

    name = "data"

    def keep(self, ctx: RunContext) -> DataResult | None:
        """The split and notes an earlier attempt saved (with the generator's images, if any)."""
        kept = records.load_split(ctx.run) if ctx.finished(self.name) else None
        if kept is None:
            return None
        split, notes, _ = kept
        return DataResult(split, tuple(notes))

    def run(self, ctx: RunContext) -> DataResult:
        """List and split (or take the plan made before the folder existed), then record."""
        plan = ctx.plan if ctx.plan is not None else plan_data(ctx.config)
        if ctx.resume:
            _check_same_split(ctx, plan.split)
        records.save_split(ctx.run, plan.split, list(plan.notes), None, stage=self.name)
        return DataResult(plan.split, plan.notes)


def _check_same_split(ctx: RunContext, split: PatientSplit) -> None:
    """On resume, a recomputed split must equal the real rows of the folder's ``splits.csv``."""
    path = ctx.run.file(layout.SPLITS_CSV)
    if not path.is_file():
        return

    def real_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [row for row in rows if row.get("synthetic") != "True"]

    recomputed = list(csv.DictReader(io.StringIO(records.recorded(ctx.run, split).to_csv())))
    if real_rows(read_split_rows(ctx.run)) != real_rows(recomputed):
        raise RunError(f"the data split differs from {path}: the data changed since the run "
                       "started", hint="start a new run instead of resuming")
