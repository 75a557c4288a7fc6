"""``bamnet data inspect``: find the source for a path, read it, preview a split, audit it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .audit import audit_samples
from .components import iter_samples
from .duplicates import DEFAULT_NEAR_THRESHOLD
from .errors import ConfigError, DataError
from .progress import ProgressCallback, silent
from .registry import Registry, factory_options
from .splits import split_samples


def detect_source(path: Path, registry: Registry) -> tuple[str, dict[str, Any]]:
    """Which registered source reads ``path``, and with what options.

    Sources opt in with a ``detect(path)`` classmethod returning their
    options (or None); higher ``detect_priority`` is asked first.

    :raises DataError: no source recognises the path.
    """
    candidates = [r for r in registry.all("dataset_source") if hasattr(r.target, "detect")]
    candidates.sort(key=lambda r: (-getattr(r.target, "detect_priority", 0), r.name))
    for reg in candidates:
        options = reg.target.detect(path)
        if options is not None:
            return reg.name, options
    raise DataError(f"{path}: no dataset source recognises this path",
                    hint="pass --source NAME (`bamnet plugins --all` lists them); a folder "
                         "needs one sub-folder per class, a CSV needs path,label columns")


def forced_options(name: str, path: Path, registry: Registry) -> dict[str, Any]:
    """Options to read ``path`` with the source the user named."""
    target = registry.get("dataset_source", name).target
    detected = target.detect(path) if hasattr(target, "detect") else None
    if detected is not None:
        return detected
    options = factory_options(target)
    for key in ("path", "root"):
        if key in options:
            return {key: str(path)}
    raise ConfigError(f"dataset source {name!r} takes no path or root option",
                      hint="configure it in a TOML file and use `bamnet run` instead")


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
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Read a dataset as a run would, preview its split, and audit it.

    :param path: a folder or a manifest CSV.
    :param source: force this source instead of detecting one.
    :param options: extra source options (like a config's ``[data]`` keys).
    :returns: the audit (see :func:`bamnet_core.audit.audit_samples`) with
        ``source``, ``source_options``, ``source_notes`` and ``seconds``.
    """
    start = time.perf_counter()
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    name, found = (source, forced_options(source, p, registry)) if source else \
        detect_source(p, registry)
    found = {**found, **(options or {})}
    accepted = factory_options(registry.get("dataset_source", name).target)
    unknown = sorted(set(found) - set(accepted))
    if unknown:
        raise ConfigError(f"dataset source {name!r} has no option(s) {unknown}; it accepts: "
                          f"{', '.join(accepted)}")
    reader = registry.get("dataset_source", name).target(**found)
    samples = list(iter_samples(reader))
    if not samples:
        raise DataError(f"{p}: source {name!r} found no images")
    split = split_samples(samples, val=val, test=test, seed=seed, by=split_by)  # type: ignore[arg-type]
    report = audit_samples(samples, split=split, near_threshold=near_threshold,
                           progress=progress)
    return {"path": str(p), "source": name, "source_options": found,
            "source_notes": list(getattr(reader, "notes", [])), **report,
            "seconds": round(time.perf_counter() - start, 2)}
