"""The DICOM instance UIDs a score row carries, so results join back to the PACS.

``bamnet score`` writes each DICOM file's ``SOPInstanceUID`` and
``StudyInstanceUID`` in the columns :data:`UID_COLUMNS`. They are read from
the header of the bytes already read for decoding (the file is not opened
again, the pixels are not touched), so a file whose pixels fail to decode
still gets them when its header is readable. A value that is not a UID
(1 to 64 characters, digits and dots) is never written: its cell is empty
and the record carries a note saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ImageDecodeError
from ..imaging.formats import is_dicom

UID_COLUMNS = ("sop_instance_uid", "study_instance_uid")
_TAGS = (("SOPInstanceUID", "sop"), ("StudyInstanceUID", "study"))
_UID = re.compile(r"[0-9.]{1,64}")


@dataclass(frozen=True)
class InstanceUids:
    """One file's UIDs (``None`` when absent or not valid) and why one was left out."""

    sop: str | None = None
    study: str | None = None
    note: str | None = None


def valid_uid(value: object) -> str | None:
    """``value`` (text or raw bytes) as a UID if it is 1-64 digits and dots once its
    padding is stripped, else ``None``."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    text = value.rstrip("\0 ") if isinstance(value, str) else ""
    return text if _UID.fullmatch(text) else None


def _raw(header: Any, keyword: str) -> object:
    """A tag's value as stored (bytes, not converted: no pydicom validation warning)."""
    element = header.get_item(keyword)
    return None if element is None else element.value


def read_uids(path: Path, data: bytes) -> InstanceUids | None:
    """The UIDs in the header of ``data`` (the bytes of ``path``); ``None`` if not DICOM.

    An unreadable header gives empty UIDs (the decode reports why the file failed).
    """
    if not is_dicom(path, data[:132]):
        return None
    from ..imaging.dicom_read import read_header  # pydicom only for DICOM files

    try:
        header = read_header(path, data)
    except ImageDecodeError:
        return InstanceUids()
    found: dict[str, str | None] = {}
    bad = []
    for keyword, name in _TAGS:
        raw = _raw(header, keyword)
        found[name] = valid_uid(raw) if raw not in (None, "", b"") else None
        if raw not in (None, "", b"") and found[name] is None:
            bad.append(keyword)
    note = (f"{' and '.join(bad)} not a valid UID (1-64 digits and dots); left empty"
            if bad else None)
    return InstanceUids(found["sop"], found["study"], note)
