"""``cohen-covid``: the ieee8023/covid-chestxray-dataset layout, ``metadata.csv`` + ``images/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bamnet_core.contract import DataError, DatasetDownload, Sample

from .common import normalise_view, parse_age, read_csv

DEFAULT_LABELS = {"covid": ["COVID-19"], "normal": ["No Finding"]}
DEFAULT_VIEWS = ["PA", "AP", "AP Supine", "AP semi erect", "AP erect"]


def finding_matches(finding: str, patterns: list[str]) -> bool:
    """True when a pattern equals the finding or one of its ``/``-separated parts.

    ``"Pneumonia/Viral/COVID-19"`` and ``"COVID-19"`` both match ``COVID-19``;
    matching ignores case.
    """
    parts = {p.strip().lower() for p in finding.split("/")} | {finding.strip().lower()}
    return any(p.strip().lower() in parts for p in patterns)


class CohenCovidSource:
    """J. P. Cohen's COVID-19 image data collection (github.com/ieee8023/covid-chestxray-dataset).

    :param root: the repository folder holding ``metadata.csv`` and ``images/``.
    :param labels: label -> findings that give it (see :func:`finding_matches`);
        rows matching no label are skipped, rows matching two are an error.
    :param views: views kept (case-insensitive); ``[]`` keeps every view.
    :param modality: modality kept (``X-ray``; ``CT`` rows are skipped).
    :param source: the source name recorded on every sample.
    """

    detect_priority = 80
    download = DatasetDownload(
        name="cohen-covid",
        url="https://github.com/ieee8023/covid-chestxray-dataset/archive/refs/heads/master.zip",
        sha256=None,
        folder="covid-chestxray-dataset-master",
        size="about 600 MB",
        manual="download the repository as a zip from "
               "https://github.com/ieee8023/covid-chestxray-dataset (Code -> Download ZIP) "
               "or `git clone` it",
    )

    def __init__(self, *, root: Path, labels: dict[str, list[str]] | None = None,
                 views: list[str] | None = None, modality: str = "X-ray",
                 source: str = "ieee8023") -> None:
        self.root = Path(root).expanduser()
        self.labels = labels if labels is not None else DEFAULT_LABELS
        self.views = {v.lower() for v in (views if views is not None else DEFAULT_VIEWS)}
        self.modality = modality
        self.source = source
        self.notes: list[str] = []

    @classmethod
    def detect(cls, path: Path) -> dict[str, Any] | None:
        """Options for a folder holding Cohen's ``metadata.csv`` (with ``patientid``)."""
        meta = path / "metadata.csv"
        if path.is_dir() and meta.is_file():
            with open(meta, encoding="utf-8", errors="replace") as fh:
                header = fh.readline().lower()
            if "patientid" in header and "finding" in header and "filename" in header:
                return {"root": str(path)}
        return None

    def _label(self, finding: str, where: str) -> str | None:
        hits = [label for label, patterns in self.labels.items()
                if finding_matches(finding, patterns)]
        if len(hits) > 1:
            raise DataError(f"{where}: finding {finding!r} matches labels {hits}",
                            hint="make the [data] labels patterns exclusive")
        return hits[0] if hits else None

    def samples(self) -> list[Sample]:
        """Rows of ``metadata.csv`` that pass the modality, view and finding filters."""
        meta = self.root / "metadata.csv"
        rows = read_csv(meta, required=("patientid", "finding", "filename"))
        out: list[Sample] = []
        skipped = {"modality": 0, "view": 0, "finding": 0}
        for number, row in enumerate(rows, start=2):
            if self.modality and (row.get("modality") or "").strip() not in ("", self.modality):
                skipped["modality"] += 1
                continue
            view = (row.get("view") or "").strip()
            if self.views and view.lower() not in self.views:
                skipped["view"] += 1
                continue
            label = self._label(row.get("finding") or "", f"{meta}: row {number}")
            if label is None:
                skipped["finding"] += 1
                continue
            folder = (row.get("folder") or "images").strip() or "images"
            demographics: dict[str, Any] = {}
            if (age := parse_age(row.get("age"))) is not None:
                demographics["age"] = age
            if (row.get("sex") or "").strip():
                demographics["sex"] = row["sex"].strip()
            out.append(Sample(
                path=str(self.root / folder / row["filename"].strip()), label=label,
                patient_id=f"{self.source}-{row['patientid'].strip()}", source=self.source,
                view=normalise_view(view), demographics=demographics))
        self.notes.append("skipped rows: " + ", ".join(f"{v} by {k}" for k, v in skipped.items()))
        if not out:
            raise DataError(f"{meta}: no rows pass the filters ({self.notes[-1]})",
                            hint="check [data] labels, views and modality")
        return out
