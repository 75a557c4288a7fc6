"""Stage records: what a finished stage left in the run folder, so ``bamnet resume`` can keep it.

When the data, generator or audit stage ends, its result is written to the
run folder (``split.json``, ``data-audit.json``, ``image-properties.json``)
before the stage is recorded in ``meta.json`` (:meth:`RunContext.record`).
A resumed run whose record and files are intact loads them instead of
listing, splitting, generating or auditing again; a missing or damaged file
only means the stage runs again.

Paths inside these files are relative to the run folder for what the run
made (the generator's images) and absolute and canonical for original data,
so a run folder can be moved, or resumed from any directory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from typing import Any

from ..contract.sample import Sample
from ..data.property_cache import from_json, to_json
from ..data.splits import SPLIT_NAMES, PatientSplit
from ..errors import RunError
from ..imaging.properties import PIXELS
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import AuditFile, SplitFile

SPLIT_VERSION = 2  # 2: paths relative to the run folder or absolute and canonical


def save_split(run: rf.RunFolder, split: PatientSplit, notes: list[str],
               generator: dict[str, Any] | None, *, stage: str) -> None:
    """Write ``split.json`` (every sample, exactly) and ``splits.csv`` (the same, for people),
    and record both as ``stage`` wrote them."""
    payload = {"version": SPLIT_VERSION, "by": split.by, "seed": split.seed,
               "split_notes": split.notes, "notes": notes, "generator": generator,
               "assignment": {name: [asdict(s) for s in split.assignment.get(name, [])]
                              for name in SPLIT_NAMES}}
    run.write_model(layout.SPLIT_JSON, SplitFile.model_validate(payload))
    run.write_text(layout.SPLITS_CSV, recorded(run, split).to_csv())
    run.record(stage, [layout.SPLIT_JSON, layout.SPLITS_CSV])


def recorded(run: rf.RunFolder, split: PatientSplit) -> PatientSplit:
    """``split`` with each sample's path as a run file records it (relative inside the run)."""
    return PatientSplit({name: [dataclasses.replace(s, path=run.record_path(s.path))
                                for s in samples] for name, samples in split.assignment.items()},
                        by=split.by, seed=split.seed, notes=list(split.notes))


def _sample(run: rf.RunFolder, row: dict[str, Any]) -> Sample:
    sample = Sample(**row)
    checkpoint = sample.generator_checkpoint
    return dataclasses.replace(sample, path=run.resolve(sample.path),
                               generator_checkpoint=run.resolve(checkpoint) if checkpoint
                               else checkpoint)


def load_split(run: rf.RunFolder) -> tuple[PatientSplit, list[str], dict[str, Any] | None] | None:
    """The split ``save_split`` wrote, or None when the file is absent, old or damaged."""
    found = _split_file(run)
    if found is None:
        return None
    try:
        assignment = {name: [_sample(run, row.model_dump(mode="json", exclude_unset=True))
                             for row in found.assignment[name]] for name in SPLIT_NAMES}
    except (ValueError, TypeError, KeyError):
        return None
    split = PatientSplit(assignment, by=found.by, seed=found.seed, notes=list(found.split_notes))
    return split, list(found.notes), found.generator


def load_generator(run: rf.RunFolder) -> dict[str, Any] | None:
    """The generator's summary ``save_split`` wrote, or None (absent, old or damaged)."""
    found = _split_file(run)
    return found.generator if found is not None else None


def _split_file(run: rf.RunFolder) -> SplitFile | None:
    """``split.json`` in the layout this bamnet writes, or None (absent, old or damaged)."""
    try:
        found = run.read_model(layout.SPLIT_JSON, SplitFile)
    except RunError:
        return None
    return found if found.version == SPLIT_VERSION else None


def save_properties(run: rf.RunFolder, properties: dict[str, Any]) -> None:
    """Write ``image-properties.json`` (NaN and infinities become null)."""
    run.write_json(layout.PROPERTIES, {path: to_json(p) for path, p in properties.items()})
    run.record("audit", [layout.PROPERTIES])


def load_audit(run: rf.RunFolder) -> tuple[AuditFile, dict[str, Any]] | None:
    """``data-audit.json`` as the audit stage wrote it, and the image properties; or None."""
    try:
        report = run.read_model(layout.AUDIT, AuditFile)
        path = run.file(layout.PROPERTIES)
        properties = run.read_json(layout.PROPERTIES) if path.exists() else {}
    except RunError:
        return None
    if "warnings" not in report.model_fields_set or not isinstance(properties, dict):
        return None  # not an audit this bamnet wrote
    if any(isinstance(p, dict) and p.get("pixels") != PIXELS for p in properties.values()):
        return None  # pixel statistics over the whole image, lungs included: audit again
    return report, {run.resolve(path): from_json(p) for path, p in properties.items()
                    if isinstance(p, dict)}
