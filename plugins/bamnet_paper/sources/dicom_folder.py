"""``dicom``: a folder of DICOM files as a PACS exports it, facts from the tags.

Files are found recursively, with or without a ``.dcm`` suffix (a file
without one is DICOM when it has ``DICM`` at byte 128). Patient, study, view,
sex, age, manufacturer and modality come from each file's header, so the
patient-grouped split and the subgroups need no manifest. The patient id and
study UID are turned into keyed pseudonyms here, before they reach a
:class:`Sample`: no run file ever holds them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal

from bamnet_core.contract import (
    DataError,
    ImageDecodeError,
    Sample,
    is_dicom,
    pseudonym,
    read_dicom_identity,
)

from .common import label_for
from .dicom_labels import LabelTable

RADIOGRAPHY = frozenset({"CR", "DX", "DR"})
FRONTAL = frozenset({"PA", "AP"})


def dicom_files(root: Path) -> list[Path]:
    """DICOM files under ``root``, recursively and sorted; hidden files are skipped."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            with open(path, "rb") as fh:
                head = fh.read(132)
        except OSError:
            continue
        if is_dicom(path, head):
            found.append(path)
    return found


class DicomSource:
    """DICOM files under ``root``; labels from class folders or a CSV.

    :param root: the folder (searched recursively).
    :param labels: a CSV with a ``label`` column and one key column: ``file``
        (a path relative to ``root``), ``SOPInstanceUID``, ``StudyInstanceUID``
        or ``PatientID``. Without it, each file's label is the name of its
        top-level folder under ``root`` (``root/covid/...``).
    :param label_map: label -> label used (case-insensitive), e.g. ``{"COVID-19" = "covid"}``.
    :param keep: ``"frontal-chest"`` (default) keeps CR/DX/DR radiographs with a PA or
        AP view whose body part, when present, is CHEST; ``"all"`` keeps every file.
    :param source_name: the source recorded on every sample (default ``"dicom"``; not the
        folder's name, which may name a patient or a hospital and would reach the model).
    :param pseudonymize: replace patient ids and study UIDs by keyed pseudonyms
        (default). Turn off only when the run folder may hold patient ids.
    """

    detect_priority = 75  # above image-folder: a folder of DICOM is better read from its tags

    def __init__(self, *, root: Path, labels: Path | None = None,
                 label_map: dict[str, str] | None = None,
                 keep: Literal["frontal-chest", "all"] = "frontal-chest",
                 source_name: str | None = None, pseudonymize: bool = True) -> None:
        self.root = Path(root).expanduser()
        self.labels = Path(labels).expanduser() if labels is not None else None
        self.label_map = label_map or {}
        self.keep = keep
        self.source = source_name or "dicom"
        self.pseudonymize = pseudonymize
        self.notes: list[str] = []

    @classmethod
    def detect(cls, path: Path) -> dict[str, Any] | None:
        """Options for a folder whose class sub-folders hold DICOM files."""
        if not path.is_dir():
            return None
        for folder in sorted(p for p in path.iterdir() if p.is_dir()
                             and not p.name.startswith(".")):
            if any(True for _ in _first_dicom(folder)):
                return {"root": str(path)}
        return None

    def samples(self) -> list[Sample]:
        """One sample per kept DICOM file; what was set aside, and why, goes to ``notes``."""
        if not self.root.is_dir():
            raise DataError(f"dicom root {str(self.root)!r} is not a folder",
                            hint="set [data] root to the folder the DICOM files are in")
        table = LabelTable.read(self.labels) if self.labels is not None else None
        files = dicom_files(self.root)
        if not files:
            raise DataError(f"dicom root {str(self.root)!r} holds no DICOM files",
                            hint="expected files with a .dcm suffix or a DICM preamble")
        out: list[Sample] = []
        aside: Counter[str] = Counter()
        for path in files:
            try:
                tags = read_dicom_identity(path)
            except ImageDecodeError:
                aside["unreadable header"] += 1
                continue
            reason = None if self.keep == "all" else set_aside_reason(tags)
            if reason:
                aside[reason] += 1
                continue
            relative = path.relative_to(self.root)
            label = self._label(relative, tags, table)
            if label is None:
                aside["no label"] += 1
                continue
            out.append(self._sample(path, relative, label, tags))
        self._note(len(files), aside)
        if not out:
            raise DataError(f"dicom root {str(self.root)!r}: no file kept of {len(files)} "
                            f"({_reasons(aside)})",
                            hint='keep every file with --set data.keep="all"')
        return out

    def _label(self, relative: Path, tags: dict[str, Any], table: LabelTable | None) -> str | None:
        if table is not None:
            raw = table.label_for(relative, tags)
        elif len(relative.parts) > 1:
            raw = relative.parts[0]
        else:
            return None
        return None if raw is None else label_for(raw, self.label_map, lowercase=True)

    def _sample(self, path: Path, relative: Path, label: str, tags: dict[str, Any]) -> Sample:
        patient, study = tags["patient_id"], tags["study_uid"]
        if patient is None:  # no patient id: one patient per file, never merged by accident
            patient = f"file:{relative.as_posix()}"
        if self.pseudonymize:
            patient = pseudonym(patient, scope="patient")
            study = pseudonym(study, scope="study", prefix="s-") if study else None
        demographics = {k: tags[k] for k in ("age", "sex") if tags[k] is not None}
        return Sample(path=str(path), label=label, patient_id=patient, source=self.source,
                      view=tags["view"], demographics=demographics, study=study,
                      manufacturer=tags["manufacturer"], modality=tags["modality"])

    def _note(self, total: int, aside: Counter[str]) -> None:
        if aside:
            self.notes.append(
                f"dicom {self.source!r}: set aside {sum(aside.values())} of {total} files "
                f"({_reasons(aside)}); keep them with [data] keep = \"all\"")


def set_aside_reason(tags: dict[str, Any]) -> str | None:
    """Why a file is not a frontal chest radiograph, or None when it is one."""
    modality = tags["modality"]
    if modality not in RADIOGRAPHY:
        return f"modality {modality or 'unknown'}"
    if tags["body_part"] and tags["body_part"] != "CHEST":
        return f"body part {tags['body_part']}"
    view = tags["view"]
    if view not in FRONTAL:
        return f"view {view or 'unknown'}"
    return None


def _reasons(aside: Counter[str]) -> str:
    return ", ".join(f"{n} {why}" for why, n in aside.most_common()) or "none"


def _first_dicom(folder: Path):
    for n, path in enumerate(folder.rglob("*")):
        if n > 200:
            return
        if path.is_file() and not path.name.startswith("."):
            try:
                with open(path, "rb") as fh:
                    head = fh.read(132)
            except OSError:
                continue
            if head[128:132] == b"DICM":
                yield path
                return
