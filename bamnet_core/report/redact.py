"""A run record that may leave the hospital: pseudonyms, no paths, no images.

:func:`redact_record` returns a copy of a :class:`RunRecord` in which

- every patient id (a ``patient_id``/``patient`` field, or an id of the run's
  split found in any text) becomes a keyed pseudonym, the same one everywhere
  in the run (HMAC under the pseudonym key, scoped to the run's name);
- every image path becomes ``<source>#<index>`` (the image's place in the
  run's split), so does an image's base name where a record names one (Grad-CAM),
  and any other absolute path in any text becomes ``<path>``;
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
from ..runs import layout
from .record import RunRecord

PATIENT_KEYS = frozenset({"patient_id", "patient", "patient_a", "patient_b"})
PATH_KEYS = frozenset({"path", "a", "b", "file", "original", "root", "manifest"})
NAME_KEYS = frozenset({"image", "name", "filename"})  # a file's base name (Grad-CAM entries)
_ABSOLUTE = re.compile(r"(?<![\w.])(?:/|~/|[A-Za-z]:[\\/])[^\s'\"<>,;:()\[\]{}|]+")
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
        split = run / layout.SPLIT_JSON
        assignment = {}
        if split.is_file():
            try:
                assignment = json.loads(split.read_text(encoding="utf-8")).get("assignment", {})
            except (ValueError, UnicodeDecodeError, AttributeError):
                assignment = {}
        counters: dict[str, int] = {}
        for name in sorted(assignment):
            for sample in assignment[name] or []:
                if not isinstance(sample, dict):
                    continue
                source = str(sample.get("source") or "image")
                if sample.get("path") and str(sample["path"]) not in self.paths:
                    counters[source] = counters.get(source, 0) + 1
                    self.paths[str(sample["path"])] = f"{source}#{counters[source]}"
                    name = Path(str(sample["path"])).name
                    self.names[name] = "<file>" if name in self.names \
                        else self.paths[str(sample["path"])]
                if sample.get("patient_id"):
                    self.patient(str(sample["patient_id"]))

    def patient(self, value: str) -> str:
        """The run's pseudonym for a patient id."""
        if value not in self.patients:
            self.patients[value] = pseudonym(value, scope=self.scope, key=self.key)
        return self.patients[value]

    def path(self, value: str) -> str:
        """``<source>#<index>`` for an image of the run, else ``<path>``."""
        return self.paths.get(value) or self.paths.get(str(Path(value))) or "<path>"

    def text(self, value: str) -> str:
        """Free text with known paths, patient ids and any absolute path replaced."""
        for original, alias in self.paths.items():
            if original in value:
                value = value.replace(original, alias)
        value = _ABSOLUTE.sub("<path>", value)
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


def redact_record(record: RunRecord) -> RunRecord:
    """A copy of ``record`` fit to share (see the module docstring)."""
    redactor = Redactor(record.path)
    config = redactor.value(record.config)
    meta = {k: redactor.value(record.meta[k]) for k in META_KEPT if k in record.meta}
    return replace(record, config=config, config_text=_toml(config), meta=meta,
                   audit=redactor.value(record.audit), metrics=redactor.value(record.metrics),
                   history=record.history,
                   external={redactor.text(k): redactor.value(v)
                             for k, v in record.external.items()})


def _toml(config: dict[str, Any]) -> str:
    import tomli_w

    try:
        return tomli_w.dumps(config)
    except (TypeError, ValueError):
        return json.dumps(config, indent=2, default=str)
