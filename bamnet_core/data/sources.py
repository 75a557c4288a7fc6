"""Reading a dataset through a source plugin: collecting samples, and finding a source for a path.

Plugin code runs through :func:`~bamnet_core.plugins.faults.call_plugin`, so
an unexpected exception is reported as that plugin's fault.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config.built import Components
from ..config.components import instantiate
from ..contract.capabilities import Detectable, HasNotes
from ..contract.sample import Sample, iter_samples
from ..errors import ConfigError, DataError
from ..imaging.formats import IMAGE_SUFFIXES
from ..plugins.faults import call_plugin
from ..plugins.options import factory_options
from ..plugins.registry import Registration, Registry


def read_samples(reg: Registration, source: Any) -> list[Sample]:
    """Every sample of ``source`` (a built component of ``reg``), checked to be :class:`Sample`."""
    def collect() -> list[Sample]:
        return list(iter_samples(source.samples(), where=reg.label))

    return call_plugin(reg, collect)


def combine(parts: list[tuple[str, list[Sample]]]) -> tuple[list[Sample], list[str]]:
    """Several sources' samples as one dataset, with patient ids unique across sources.

    Each patient id is prefixed with its source's id (``cohen-covid:patient-17``), since two
    sources may reuse a number for different people. A file listed by two sources is kept
    once (the first), and a note says so; the same image under two paths stays, for the
    audit to flag as a duplicate across sources.

    :returns: the samples and notes for the user.
    """
    seen: dict[str, str] = {}
    out: list[Sample] = []
    notes: list[str] = []
    dropped: dict[tuple[str, str], int] = {}
    for ident, samples in parts:
        for s in samples:
            key = str(Path(s.path).resolve())
            if key in seen:
                dropped[(ident, seen[key])] = dropped.get((ident, seen[key]), 0) + 1
                continue
            seen[key] = ident
            out.append(replace(s, patient_id=f"{ident}:{s.patient_id}"))
    for (ident, first), count in dropped.items():
        notes.append(f"{count} file(s) of source {ident!r} were already listed by {first!r}; "
                     "kept once")
    return out, notes


def collect_configured(components: Components,
                       classes: list[str]) -> tuple[list[Sample], list[str]]:
    """The samples of a config's source, or of all its ``[[data.sources]]`` combined.

    :returns: the samples, and notes for the audit: the sources' own (what a source set
        aside, and why) and those of combining them.
    """
    if not components.sources:
        samples = collect_samples(components.registrations["data"], components.source, classes)
        return samples, source_notes(components.source)
    parts = [(ident, read_samples(components.registrations[f"data.sources[{i}]"], source))
             for i, (ident, source) in enumerate(components.sources)]
    samples, notes = combine(parts)
    own = [note for _, source in components.sources for note in source_notes(source)]
    return check_labels(samples, classes, "the combined [[data.sources]]"), own + notes


def source_notes(source: Any) -> list[str]:
    """A source's notes for the user (:class:`HasNotes`), read after it listed its samples."""
    notes = getattr(source, "notes", None) if isinstance(source, HasNotes) else None
    return [str(n) for n in notes] if isinstance(notes, list) else []


def collect_samples(reg: Registration, source: Any, classes: list[str]) -> list[Sample]:
    """The samples of a configured source, checking their labels against ``classes``.

    :raises DataError: a label outside ``classes``, or a class with no image.
    """
    return check_labels(read_samples(reg, source), classes, reg.label)


def check_labels(samples: list[Sample], classes: list[str], what: str) -> list[Sample]:
    """``samples``, after checking every label is in ``classes`` and every class has images.

    :raises DataError: a label outside ``classes``, or a class with no image.
    """
    unknown = sorted({s.label for s in samples} - set(classes))
    if unknown:
        raise DataError(
            f"{what} yielded labels {unknown} not in data.classes {classes}",
            hint="add them to [data] classes, or map or filter them in the source's options",
        )
    missing = [c for c in classes if not any(s.label == c for s in samples)]
    if missing:
        raise DataError(f"{what} yielded no images of class(es) {missing}",
                        hint="check the source's path and filters")
    return samples


def _candidates(registry: Registry) -> list[Registration]:
    found = [r for r in registry.all("dataset_source") if isinstance(r.target, Detectable)]
    return sorted(found, key=lambda r: (-int(r.target.detect_priority), r.name))


def open_detected(path: Path, registry: Registry, extra: dict[str, Any] | None = None
                  ) -> tuple[Registration, dict[str, Any], Any, list[Sample]]:
    """Find the source that reads ``path`` and read it.

    Sources are asked in order of falling ``detect_priority``; one that claims
    the path but then cannot read it (a :class:`DataError`) passes it on to
    the next, and its reason is kept for the final error.

    :returns: the registration, the options used, the source and its samples.
    :raises DataError: no source can read the path.
    """
    reasons: list[str] = []
    for reg in _candidates(registry):
        options = call_plugin(reg, reg.target.detect, path)
        if options is None:
            continue
        options = {**options, **(extra or {})}
        try:
            source = instantiate(reg, options, where="--option", validate=True)
            return reg, options, source, read_samples(reg, source)
        except DataError as exc:
            reasons.append(f"{reg.name}: {exc.message}")
    tried = f" ({'; '.join(reasons)})" if reasons else ""
    raise DataError(f"{path}: no dataset source can read this path{tried}",
                    hint="pass --source NAME (`bamnet plugins --all` lists them); a folder "
                         "needs one sub-folder per class, a CSV needs path,label columns")


def detect_source(path: Path, registry: Registry) -> dict[str, Any]:
    """``{"source": NAME, **options}`` for the first source that claims ``path``.

    Only asks (``Detectable.detect``); nothing is read. ``bamnet run --data``
    uses it to point a config at other data.

    :raises DataError: the path does not exist, or no source claims it.
    """
    what = ("give a manifest CSV, an image folder with one sub-folder per class, or a "
            "dataset's folder")
    if not path.exists():
        link = " (a broken or looping symbolic link)" if path.is_symlink() else ""
        raise DataError(f"--data {path}: not found{link}", hint=what)
    if not path.is_file() and not path.is_dir():
        raise DataError(f"--data {path}: not a regular file or folder (a pipe, socket or device)",
                        hint=what)
    for reg in _candidates(registry):
        options = call_plugin(reg, reg.target.detect, path)
        if options is not None:
            return {"source": reg.name, **options}
    raise DataError(f"--data {path}: no dataset source recognises this path ({seen(path)})",
                    hint="a folder needs one sub-folder per class, a CSV needs path,label "
                         "columns; or name the source in [data] of a config file")


def seen(path: Path, limit: int = 10_000) -> str:
    """What ``path`` holds, in a few words, for an error that says what it saw.

    Looks at most at ``limit`` folder entries and a CSV's first line.
    """
    if path.is_file():
        if path.suffix.lower() != ".csv":
            return f"a {path.suffix or 'suffix-less'} file, not a CSV"
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                header = fh.readline(4096).strip()
        except OSError as exc:
            return f"a CSV that cannot be read: {exc.strerror or exc}"
        return f"a CSV whose header is {header[:200]!r}" if header else "an empty CSV"
    images = folders = 0
    try:
        for n, entry in enumerate(path.iterdir()):
            if n >= limit:
                break
            if entry.is_dir():
                folders += 1
            elif entry.suffix.lower() in IMAGE_SUFFIXES:
                images += 1
    except OSError as exc:
        return f"a folder that cannot be listed: {exc.strerror or exc}"
    return (f"a folder with {images} image file(s) at its top level and {folders} sub-folder(s), "
            "none of them holding images")


def forced_options(reg: Registration, path: Path) -> dict[str, Any]:
    """Options to read ``path`` with the source the user named."""
    target = reg.target
    detected = call_plugin(reg, target.detect, path) if isinstance(target, Detectable) else None
    if detected is not None:
        return detected
    options = factory_options(target)
    for key in ("path", "root"):
        if key in options:
            return {key: str(path)}
    raise ConfigError(f"{reg.label} takes no path or root option",
                      hint="configure it in a TOML file and use `bamnet run` instead")
