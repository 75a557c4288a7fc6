"""``bamnet data inspect``: find the source for a path, read it, preview a split, audit it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .._util.progress import ProgressCallback, silent
from ..config.components import instantiate
from ..contract.capabilities import HasNotes, StatesPopulation
from ..contract.sample import Sample
from ..errors import DataError
from ..plugins.registry import Registry
from .audit import audit_samples
from .duplicates import DEFAULT_NEAR_THRESHOLD
from .shortcut_baseline import DEFAULT_THRESHOLD
from .sources import forced_options, open_detected, read_samples
from .splits import split_samples

# samples, progress -> (deep audit report, warnings); supplied from above `train`
DeepAudit = Callable[[Sequence[Sample], ProgressCallback], tuple[dict[str, Any], list[str]]]


def inspect_dataset(
    path: str | Path,
    registry: Registry,
    *,
    source: str | None = None,
    options: dict[str, Any] | None = None,
    split_by: str = "patient",
    val: float = 0.2,
    test: float = 0.0,
    seed: int = 0,
    near_threshold: int = DEFAULT_NEAR_THRESHOLD,
    shortcut_threshold: float | None = DEFAULT_THRESHOLD,
    deep: DeepAudit | None = None,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Read a dataset as a run would, preview its split, and audit it.

    :param path: a folder or a manifest CSV.
    :param source: force this source instead of detecting one.
    :param options: extra source options (like a config's ``[data]`` keys).
    :param shortcut_threshold: flag the outside-the-lungs baseline at this
        ROC-AUC; None skips it.
    :param deep: runs the label-issue and outlier searches on the images that
        decode (:func:`bamnet_core.experiment.deep_audit.deep_audit`); its
        report goes under ``deep``.
    :returns: the audit (see :func:`bamnet_core.data.audit.audit_samples`) with
        ``source``, ``source_options``, ``source_notes`` and ``seconds``.
    """
    start = time.perf_counter()
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such file or folder",
                        hint="pass a dataset folder or a manifest CSV that exists")
    if source:
        reg = registry.get("dataset_source", source)
        found = {**forced_options(reg, p), **(options or {})}
        reader = instantiate(reg, found, where="--option", validate=True)
        samples = read_samples(reg, reader)
    else:
        reg, found, reader, samples = open_detected(p, registry, options)
    if not samples:
        raise DataError(f"{p}: {reg.label} found no images")
    split = split_samples(samples, val=val, test=test, seed=seed, by=split_by)  # type: ignore[arg-type]
    # the deep audit decodes first: it caches properties and dHashes, so the audit decodes none
    deep_report, deep_warnings = deep(samples, progress) if deep is not None else (None, [])
    facts = reader.population_facts() if isinstance(reader, StatesPopulation) else None
    report = audit_samples(samples, split=split, near_threshold=near_threshold,
                           shortcut_threshold=shortcut_threshold, seed=seed,
                           population_facts=facts, progress=progress)
    if deep_report is not None:
        report["deep"] = deep_report
        report["warnings"].extend(deep_warnings)
    notes = list(reader.notes) if isinstance(reader, HasNotes) else []
    return {"path": str(p), "source": reg.name,
            "source_options": {k: str(v) if isinstance(v, Path) else v for k, v in found.items()},
            "source_notes": notes, **report,
            "seconds": round(time.perf_counter() - start, 2)}
