"""Stage records: what a finished stage left in the run folder, so ``--resume`` can skip it.

When the data, generator or audit stage ends, its result is written to the
run folder (``split.json``, ``data-audit.json``, ``image-properties.json``)
and a record lands in ``meta.json`` under ``stages`` (written at once, so a
``kill -9`` a moment later keeps it). A resumed run whose record and files
are intact loads them instead of listing, splitting, generating or auditing
again; a missing or damaged file only means the stage runs again.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from ..contract.sample import Sample
from ..data.property_cache import from_json, to_json
from ..data.splits import SPLIT_NAMES, PatientSplit
from ..runs import folder as rf
from ..runs import layout

SPLIT = "split.json"  # every sample with its split, exactly (splits.csv is for people)
PROPERTIES = "image-properties.json"  # path -> image properties, for the shortcut baseline
SPLIT_VERSION = 1


def record(run: rf.RunFolder, meta: dict[str, Any], stage: str, **facts: Any) -> None:
    """Mark ``stage`` finished in ``meta.json`` now (its outputs are already written)."""
    meta.setdefault("stages", {})[stage] = {"done_at": rf.utc_now(), **facts}
    run.write_json(layout.META, meta)


def finished(meta: dict[str, Any], stage: str) -> dict[str, Any] | None:
    """The record of ``stage`` when an earlier attempt finished it, else None."""
    found = meta.get("stages", {}).get(stage)
    return found if isinstance(found, dict) else None


def save_split(run: rf.RunFolder, split: PatientSplit, notes: list[str],
               generator: dict[str, Any] | None) -> None:
    """Write ``split.json``: the split, the sources' notes and the generator's summary."""
    payload = {"version": SPLIT_VERSION, "by": split.by, "seed": split.seed,
               "split_notes": split.notes, "notes": notes, "generator": generator,
               "assignment": {name: [asdict(s) for s in split.assignment.get(name, [])]
                              for name in SPLIT_NAMES}}
    run.write_json(SPLIT, payload)


def load_split(run: rf.RunFolder) -> tuple[PatientSplit, list[str], dict[str, Any] | None] | None:
    """The split ``save_split`` wrote, or None when the file is absent or damaged."""
    try:
        payload = json.loads(run.file(SPLIT).read_text(encoding="utf-8"))
        if payload.get("version") != SPLIT_VERSION:
            return None
        assignment = {name: [Sample(**row) for row in payload["assignment"][name]]
                      for name in SPLIT_NAMES}
        split = PatientSplit(assignment, by=payload["by"], seed=payload["seed"],
                             notes=list(payload["split_notes"]))
        return split, list(payload["notes"]), payload["generator"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def save_properties(run: rf.RunFolder, properties: dict[str, Any]) -> None:
    """Write ``image-properties.json`` (NaN and infinities become null)."""
    run.write_json(PROPERTIES, {path: to_json(p) for path, p in properties.items()})


def load_audit(run: rf.RunFolder, warnings: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``data-audit.json`` as the audit stage left it, and the image properties; or None.

    :param warnings: how many warnings the audit stage wrote; later stages
        append more, which a redo must not see twice.
    """
    try:
        report = json.loads(run.file(layout.AUDIT).read_text(encoding="utf-8"))
        properties = json.loads(run.file(PROPERTIES).read_text(encoding="utf-8")) \
            if run.file(PROPERTIES).is_file() else {}
        if not isinstance(report, dict) or not isinstance(report.get("warnings"), list) or \
                not isinstance(properties, dict):
            return None
    except (OSError, ValueError):
        return None
    report["warnings"] = report["warnings"][:warnings]
    return report, {path: from_json(p) for path, p in properties.items()
                    if isinstance(p, dict)}
