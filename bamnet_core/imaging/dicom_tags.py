"""Which DICOM tags bamnet writes anywhere, and which it only reads in memory.

Following the DICOM de-identification profile (PS3.15 Annex E), this is an
allowlist, never a blocklist: :data:`WRITTEN` names every tag whose value may
reach a run file (``image-properties.json``, ``data-audit.json``, the
report), and no other tag's value is ever copied out. Identifying tags
(patient id, study, dates, institution, names) are read into memory by
:func:`identity` for splitting and subgroups; the ``dicom`` source turns the
patient id into a keyed pseudonym before it reaches a :class:`Sample`.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

# tag keyword -> the image property it is written as; nothing else is written
WRITTEN: dict[str, str] = {
    "Modality": "modality",
    "Manufacturer": "manufacturer",
    "PhotometricInterpretation": "photometric",
    "ViewPosition": "view_position",
}
_AGE = re.compile(r"^\s*(\d{1,3})\s*([DWMY]?)\s*$", re.IGNORECASE)
_UNIT_YEARS = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0, "": 1.0}


def written_tags(ds: Any) -> dict[str, str]:
    """The allowlisted tags ``ds`` holds, as short one-line strings, keyed by property name."""
    out: dict[str, str] = {}
    for keyword, name in WRITTEN.items():
        value = " ".join(str(ds.get(keyword, "") or "").split())[:64]
        if value:
            out[name] = value
    return out


def read_identity(path: Path) -> dict[str, Any]:
    """:func:`identity` of a DICOM file's header, read without its pixel data.

    :raises ImageDecodeError: the file is not readable as DICOM.
    """
    from ..errors import ImageDecodeError
    from .dicom_read import read_header

    header = read_header(path)
    if len(header) == 0:
        raise ImageDecodeError(str(path), "not a DICOM file (no DICOM tags could be read)",
                               kind="not-an-image")
    return identity(header)


def identity(ds: Any) -> dict[str, Any]:
    """The facts a source needs from a header: patient, study, view, sex, age, equipment.

    Values are stripped strings, or None when absent; ``age`` is in years
    (``PatientAge`` such as ``"045Y"``, else from the birth and study dates).
    """
    def text(keyword: str) -> str | None:
        value = " ".join(str(ds.get(keyword, "") or "").split())
        return value or None

    sex = (text("PatientSex") or "").upper()[:1]
    return {
        "patient_id": text("PatientID"),
        "study_uid": text("StudyInstanceUID"),
        "sop_uid": text("SOPInstanceUID"),
        "view": view_of(ds),
        "sex": sex if sex in ("F", "M", "O") else None,
        "age": age_of(ds),
        "manufacturer": text("Manufacturer"),
        "modality": (text("Modality") or "").upper() or None,
        "body_part": (text("BodyPartExamined") or "").upper() or None,
    }


def view_of(ds: Any) -> str | None:
    """``ViewPosition`` (``LL`` and ``RL`` as ``LATERAL``), else the view code's meaning."""
    view = " ".join(str(ds.get("ViewPosition", "") or "").split()).upper()
    if view:
        return {"LL": "LATERAL", "RL": "LATERAL", "LAT": "LATERAL"}.get(view, view)
    codes = ds.get("ViewCodeSequence")
    if codes:
        meaning = str(codes[0].get("CodeMeaning", "") or "").lower()
        for word, name in (("postero-anterior", "PA"), ("antero-posterior", "AP"),
                           ("lateral", "LATERAL")):
            if word in meaning:
                return name
    return None


def age_of(ds: Any) -> float | int | None:
    """Age in years from ``PatientAge`` (``"045Y"``, ``"006M"``) or birth and study dates."""
    raw = str(ds.get("PatientAge", "") or "")
    match = _AGE.match(raw)
    if match:
        years = int(match.group(1)) * _UNIT_YEARS[match.group(2).upper()]
        return _years(years)
    born = _date(ds.get("PatientBirthDate"))
    seen = _date(ds.get("StudyDate")) or _date(ds.get("AcquisitionDate")) \
        or _date(ds.get("ContentDate"))
    if born and seen and seen >= born:
        return _years((seen - born).days / 365.25)
    return None


def _years(value: float) -> float | int | None:
    """Whole years as an int, else one decimal; None past 130 (a wrong date, not an age)."""
    if not 0 <= value < 130:
        return None
    rounded = round(value, 1)
    return int(rounded) if float(rounded).is_integer() else rounded


def _date(value: object) -> date | None:
    text = str(value or "").strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
