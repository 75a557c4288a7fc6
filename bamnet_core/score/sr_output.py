"""Write one DICOM Structured Report per scored DICOM image into a folder (``--sr DIR``).

Both ``bamnet score --sr`` and ``bamnet listen`` call :class:`SrWriter` with each batch
of records *before* the batch's rows are written: a run killed in between scores those
images again on resume, and the SR of an image keeps its UIDs (:func:`.sr.sr_uids`),
so it is replaced, never duplicated. Rows and SRs agree: an image with a row and no
error has its SR; a failed image (an error row) and a file that is not DICOM have none.

Each SR is ``DIR/<SR SOP Instance UID>.dcm``, written atomically (a temporary file,
fsynced, renamed). Only UIDs name files; nothing here logs a patient's name or id.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .._util.atomic import atomic_path
from ..errors import BamnetError, ImageDecodeError
from ..imaging.formats import is_dicom
from .scorer import Scorer, ScoreRecord
from .sr import AlgorithmFacts, build_sr


class StructuredReportError(BamnetError):
    """The SR folder cannot be created or written."""


@dataclass(frozen=True)
class WrittenSr:
    """One SR written: the scored image's path and SOP Instance UID, and the SR's file."""

    image: str
    image_uid: str
    sr_path: Path
    sr_uid: str


def algorithm_facts(scorer: Scorer) -> AlgorithmFacts:
    """What the SRs of ``scorer``'s run say about its model (:class:`.sr.AlgorithmFacts`)."""
    return AlgorithmFacts.from_model(
        scorer.model_path.stem, scorer.sha256, scorer.classes, scorer.info.positive,
        scorer.threshold, scorer.info.threshold, scorer.info.extra)


def skip_reason(exc: Exception) -> str:
    """Why an image got no SR, without the exception's text: pydicom and highdicom quote
    the values they refuse, and a header's values may name the patient."""
    if isinstance(exc, OSError):
        return f"no SR: the file could not be read again ({exc.strerror or 'I/O error'})"
    if isinstance(exc, ImageDecodeError):
        return "no SR: its header could not be read again"
    name = getattr(exc, "name", None) if isinstance(exc, AttributeError) else None
    if isinstance(name, str) and name.isidentifier():
        return f"no SR: its header has no {name}, which the SR needs"
    return f"no SR: highdicom refused its header ({type(exc).__name__})"


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(132)


class SrWriter:
    """Writes the SRs of scored records into ``folder``.

    :param folder: where the SRs go (created if missing).
    :param facts: the algorithm identification every SR carries.
    """

    def __init__(self, folder: Path, facts: AlgorithmFacts) -> None:
        self.folder, self.facts = Path(folder), facts
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file, FIFO or looping link in its place, or no right
            what = "something that is not a folder is in its place" \
                if os.path.lexists(self.folder) else (exc.strerror or str(exc))
            raise StructuredReportError(
                f"cannot create the SR folder {folder}: {what}",
                hint="choose a writable --sr folder") from None
        if not self.folder.is_dir():
            raise StructuredReportError(f"--sr {folder} is not a folder",
                                        hint="choose a folder for --sr")
        #: why a scored DICOM image got no SR, one (path, reason) per image
        self.skipped: list[tuple[str, str]] = []

    def write(self, records: Iterable[ScoreRecord]) -> list[WrittenSr]:
        """The SR of each record that scored and came from a DICOM file; the others get none."""
        from ..imaging.dicom_read import read_header

        written = []
        for record in records:
            if record.error is not None:
                continue  # a failed image keeps its error row and gets no SR
            path = Path(record.path)
            try:
                if not is_dicom(path, _head(path)):
                    continue
                source = read_header(path)
                sr = build_sr(source, record, self.facts)
            except (OSError, ImageDecodeError, ValueError, AttributeError, TypeError) as exc:
                self.skipped.append((record.path, skip_reason(exc)))
                continue
            target = self.folder / f"{sr.SOPInstanceUID}.dcm"
            try:
                with atomic_path(target) as tmp:
                    sr.save_as(tmp, enforce_file_format=True)
            except OSError as exc:
                raise StructuredReportError(f"cannot write {target}: {exc.strerror or exc}",
                                            hint="check the --sr folder is writable and has "
                                                 "space") from None
            written.append(WrittenSr(record.path, str(source.SOPInstanceUID), target,
                                     str(sr.SOPInstanceUID)))
        return written
