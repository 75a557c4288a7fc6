"""A run record that may leave the hospital: pseudonyms, no paths, no images.

:func:`redact_record` returns a copy of a :class:`RunRecord` in which

- every patient id (a ``patient_id``/``patient`` field, or an id of the run's
  split found in any text) becomes a keyed pseudonym, the same one everywhere
  in the run (HMAC under the pseudonym key, scoped to the run's name);
- every image path becomes ``<source>#<index>`` (the image's place in the
  run's split), so does an image's base name where a record names one (Grad-CAM),
  and any other absolute path in any text becomes ``<path>``;
- every name the user gave is replaced wherever it appears, as a whole word:
  the run's folder name and ``[run] name`` become the run's alias (``run``, or
  ``run A``, ``run B``... on a comparison page), each external dataset's name
  ``external#N``, and every path the user gave (the sources' ``root``,
  ``path`` and ``manifest``, an external folder), relative or absolute, becomes
  ``<path>`` while the folder it names becomes ``<data folder>``;
- the config keeps its sections and values, but no path;
- ``meta.json`` keeps versions, status and timings, not the config's origin.

DICOM tags reach a run only through the allowlist
(:data:`bamnet_core.imaging.dicom_tags.WRITTEN`), so nothing else of a tag
can be in the record. Images (Grad-CAM overlays, thumbnails) are left out by
the report builder unless the user opts in: burned-in text is common on
radiographs.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..contract.pseudonyms import pseudonym, pseudonym_key
from ..errors import RunError
from ..runs import layout
from ..runs.files import AuditFile, MetaFile, MetricsFile, SplitFile
from ..runs.folder import RunFolder
from ..runs.run_config import config_of
from .record import RunRecord, plain

PATIENT_KEYS = frozenset({"patient_id", "patient", "patient_a", "patient_b"})
PATH_KEYS = frozenset({"path", "a", "b", "file", "original", "root", "manifest"})
NAME_KEYS = frozenset({"image", "name", "filename"})  # a file's base name (Grad-CAM entries)
_ABSOLUTE = re.compile(r"(?<![\w.])(?:/|~/|[A-Za-z]:[\\/])[^\s'\"<>,;:()\[\]{}|]+")
MIN_GIVEN = 3  # characters: a shorter name is replaced only where a field holds it whole
GENERIC = frozenset({"data", "images", "image", "run", "runs", "external", "train", "test",
                     "val", "normal", "covid", "dicom", "manifest.csv"})
"""Names too common to replace in free text (they name no one); a field holding one is kept."""
META_KEPT = ("bamnet_version", "python", "plugins", "seed", "status", "started_at",
             "finished_at", "device", "timings_s", "stages")


class Redactor:
    """Pseudonyms and path aliases for one run, from its ``split.json``."""

    def __init__(self, run: Path) -> None:
        self.scope = f"run:{run.name}"
        self.key = pseudonym_key()
        self.paths: dict[str, str] = {}
        self.patients: dict[str, str] = {}
        self.names: dict[str, str] = {}  # base name -> alias (``<file>`` when not unique)
        self.given: dict[str, str] = {}  # a name or path the user gave -> its alias
        folder = RunFolder(run)
        split = None
        if folder.file(layout.SPLIT_JSON).is_file():
            try:
                split = folder.read_model(layout.SPLIT_JSON, SplitFile)
            except RunError:  # damaged: ids and paths are still replaced by their pattern
                split = None
        assignment = split.assignment if split else {}
        counters: dict[str, int] = {}
        for name in sorted(assignment):
            for sample in assignment[name]:
                source = sample.source or "image"
                if sample.path and sample.path not in self.paths:
                    counters[source] = counters.get(source, 0) + 1
                    self.paths[sample.path] = f"{source}#{counters[source]}"
                    base = Path(sample.path).name
                    self.names[base] = "<file>" if base in self.names else self.paths[sample.path]
                if sample.patient_id:
                    self.patient(sample.patient_id)

    def patient(self, value: str) -> str:
        """The run's pseudonym for a patient id."""
        if value not in self.patients:
            self.patients[value] = pseudonym(value, scope=self.scope, key=self.key)
        return self.patients[value]

    def path(self, value: str) -> str:
        """``<source>#<index>`` for an image of the run, else ``<path>``."""
        return self.paths.get(value) or self.paths.get(str(Path(value))) or "<path>"

    def give(self, name: str, alias: str) -> None:
        """Replace ``name``, a name the user gave (a run's, a dataset's), by ``alias`` in text."""
        name = name.strip()
        if len(name) >= MIN_GIVEN and name not in GENERIC and name not in self.given:
            self.given[name] = alias

    def give_path(self, value: str) -> None:
        """Replace ``value``, a path the user gave, by ``<path>``, relative or absolute, and
        the folder it names (a file's folder, for a file) by ``<data folder>``."""
        value = value.strip()
        if not value or value in GENERIC:
            return
        path = Path(value)
        for form in {value, str(path), path.as_posix(), str(path.expanduser())}:
            if form not in (".", "/"):
                self.given.setdefault(form, "<path>")
        folder = path.parent.name if path.suffix else path.name
        self.give(folder, "<data folder>")

    def text(self, value: str) -> str:
        """Free text with known paths, names the user gave, the run's image file names,
        patient ids and any absolute path replaced."""
        for original, alias in self.paths.items():
            if original in value:
                value = value.replace(original, alias)
        for given in sorted(self.given, key=len, reverse=True):  # a path before its folder
            if given in value:
                value = re.sub(rf"(?<![\w.-]){re.escape(given)}(?![\w-])", self.given[given],
                               value)
        value = _ABSOLUTE.sub("<path>", value)
        for base, alias in self.names.items():  # a warning names an image by its file name
            if base in value:
                value = re.sub(rf"(?<![\w.-]){re.escape(base)}(?![\w.-])", alias, value)
        for original, alias in self.patients.items():
            if len(original) >= 4 and original in value:
                value = value.replace(original, alias)
        return value

    def value(self, value: Any, key: str | None = None) -> Any:
        """``value`` with every identifying part replaced, recursively."""
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, key) for v in value]
        if not isinstance(value, str):
            return value
        if key in PATIENT_KEYS:
            return self.patient(value)
        if key in PATH_KEYS and (value in self.paths or _ABSOLUTE.fullmatch(value)):
            return self.path(value)
        if key in NAME_KEYS and value in self.names:
            return self.names[value]
        return self.text(value)


def user_given(redactor: Redactor, record: RunRecord, alias: str = "run") -> None:
    """Teach ``redactor`` the names and paths the user gave ``record``: the run's folder and
    ``[run] name`` (as ``alias``), the external datasets, and the sources' paths."""
    redactor.give(record.path.name, alias)
    run_name = record.config.document.get("run", {}).get("name")
    if isinstance(run_name, str):
        redactor.give(run_name, alias)
    _given_paths(redactor, record.config.document)
    for number, name in enumerate(sorted(record.external), start=1):
        redactor.give(name, f"external#{number}")
        data = record.external[name].data
        origin = getattr(data, "origin", None) if data is not None else None
        if isinstance(origin, str) and " " in origin:  # "<source> <path as given>"
            redactor.give_path(origin.split(" ", 1)[1])


def _given_paths(redactor: Redactor, value: Any, key: str | None = None) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _given_paths(redactor, v, str(k))
    elif isinstance(value, list):
        for v in value:
            _given_paths(redactor, v, key)
    elif isinstance(value, str) and key in PATH_KEYS:
        redactor.give_path(value)


def redact_record(record: RunRecord, *, alias: str = "run") -> RunRecord:
    """A copy of ``record`` fit to share (see the module docstring).

    Each file is redacted as its JSON values, then read back through its model.

    :param alias: how the redacted record names the run (its ``name``).
    """
    redactor = Redactor(record.path)
    user_given(redactor, record, alias)
    document = redactor.value(record.config.document)
    where = str(record.path / layout.CONFIG)
    meta = {k: redactor.value(v) for k, v in plain(record.meta).items()
            if k in META_KEPT or k == "schema_version"}
    return replace(
        record, config=config_of(document, where, partial=True), config_text=_toml(document),
        meta=MetaFile.from_json(meta, layout.META) if record.meta else None,
        audit=AuditFile.from_json(redactor.value(plain(record.audit)), layout.AUDIT)
        if record.audit else None,
        metrics=MetricsFile.from_json(redactor.value(plain(record.metrics)), layout.METRICS)
        if record.metrics else None,
        history=record.history, shown_name=alias,
        external={redactor.text(k): MetricsFile.from_json(redactor.value(plain(v)), k)
                  for k, v in record.external.items()})


def _toml(config: dict[str, Any]) -> str:
    import tomli_w

    try:
        return tomli_w.dumps(config)
    except (TypeError, ValueError):
        return json.dumps(config, indent=2, default=str)
