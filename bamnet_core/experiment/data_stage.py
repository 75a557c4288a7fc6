"""The stages before decoding: data listing and split, generator, and a kept audit.

A fresh run lists the data, splits it and (when configured) fits the
generator, recording each stage (:mod:`.stage_records`). A resumed run keeps
what an earlier attempt finished: the split from ``split.json``, the
generator's images with it, and ``data-audit.json``, so none is redone.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from .._util.progress import ProgressCallback
from ..config.resolved import Config
from ..data.sources import collect_configured
from ..data.splits import PatientSplit, split_holding_out, split_samples
from ..data.subset import limit_per_class
from ..errors import RunError
from ..runs import folder as rf
from ..runs import layout
from . import stage_records as records
from .audit_stage import RunAudit
from .generator_stage import synthesise
from .leakage import check_synthetic_placement
from .stages import StageTimer


def early_stages(config: Config, run: rf.RunFolder, meta: dict[str, Any], timer: StageTimer,
                 seed: int, split_seed: int, progress: ProgressCallback, resume: bool
                 ) -> tuple[PatientSplit, list[str], dict[str, Any] | None, RunAudit | None]:
    """Data, split and generator, run or (on resume) kept; and a kept audit, if any.

    :returns: the split (synthetic images in training), the sources' notes,
        the generator's summary, and the audit an earlier attempt finished
        (None when the audit must run).
    """
    kept = records.load_split(run) if resume and records.finished(meta, "data") else None
    synthesis_info = None
    if kept is not None:
        split, notes, synthesis_info = kept
        timer.kept("data")
    else:
        with timer.stage("data"):
            samples, notes = collect_configured(config.components, config.data.classes)
            if config.data.limit_per_class is not None:
                samples = limit_per_class(samples, config.data.limit_per_class, seed)
            split = _split(config, samples, split_seed)
            _check_same_split(run, split, resume)
            records.save_split(run, split, notes, None)
            records.record(run, meta, "data")
    if config.generator.enabled:
        if kept is not None and records.finished(meta, "generator") and synthesis_info:
            timer.kept("generator")
            synthesis_info = {**synthesis_info, "reused": True}  # this attempt made none
        else:  # images an unfinished attempt added are not kept: the stage redoes them
            split.assignment["train"] = [s for s in split.assignment["train"] if not s.synthetic]
            from ..train.setup import seed_everything

            seed_everything(seed)
            with timer.stage("generator"):
                synthesis = synthesise(config, split, run, seed, progress)
                split.assignment["train"].extend(synthesis.samples)
                synthesis_info = synthesis.info
                records.save_split(run, split, notes, synthesis_info)
                records.record(run, meta, "generator")
    check_synthetic_placement(split)
    run.write_text(layout.SPLITS_CSV, split.to_csv())
    audited = records.finished(meta, "audit") if resume else None
    if audited is None:
        return split, notes, synthesis_info, None
    found = records.load_audit(run, int(audited.get("warnings", 0)))
    if found is None:
        return split, notes, synthesis_info, None
    report, properties = found
    return split, notes, synthesis_info, RunAudit(report, properties)


def _split(config: Config, samples: list[Any], seed: int) -> PatientSplit:
    """The configured split: by patient or image, with a held-out source when asked."""
    options = config.split
    if options.hold_out_source:
        return split_holding_out(samples, options.hold_out_source, val=options.val,
                                 seed=seed, by=options.by)
    return split_samples(samples, val=options.val, test=options.test, seed=seed,
                         by=options.by)


def _check_same_split(run: rf.RunFolder, split: PatientSplit, resume: bool) -> None:
    """On resume, a recomputed split must equal the real rows of the folder's ``splits.csv``."""
    path = run.file(layout.SPLITS_CSV)
    if not resume or not path.is_file():
        return

    def real_rows(text: str) -> list[dict[str, str]]:
        return [row for row in csv.DictReader(io.StringIO(text)) if row["synthetic"] != "True"]

    if real_rows(path.read_text(encoding="utf-8")) != real_rows(split.to_csv()):
        raise RunError(f"the data split differs from {path}: the data changed since the run "
                       "started", hint="start a new run instead of resuming")
