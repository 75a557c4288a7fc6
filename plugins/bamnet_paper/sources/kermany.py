"""``kermany-cxr``: Kermany et al. pediatric CXRs, ``chest_xray/{train,test,val}/{NORMAL,...}``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bamnet_core.contract import DataError, DatasetDownload, Sample

from .common import image_files
from .populations import KnownPopulations

_SPLITS = ("train", "test", "val")
_PNEUMONIA = re.compile(r"^(person\d+)_(bacteria|virus)_", re.IGNORECASE)
_NORMAL = re.compile(r"^((?:NORMAL2-)?IM-\d+)-", re.IGNORECASE)


def patient_of(name: str) -> str | None:
    """The patient id in a Kermany file name, or None.

    ``person1_bacteria_1.jpeg`` -> ``person1``;
    ``NORMAL2-IM-0587-0001.jpeg`` -> ``NORMAL2-IM-0587``.
    """
    for pattern in (_PNEUMONIA, _NORMAL):
        match = pattern.match(name)
        if match:
            return match.group(1)
    return None


class KermanyCXRSource(KnownPopulations):
    """Kermany, Zhang, Goldbaum (2018) pediatric chest X-rays (Mendeley Data, CC BY 4.0).

    Patients are children aged 1 to 5 (the dataset's description), so every
    sample carries ``age_group = "pediatric"``. Patient ids come from the file
    names; the dataset numbers its folders separately, so equal ids in
    different folders are merged into one patient: that can only make a
    patient-grouped split stricter, never leakier.

    :param root: ``chest_xray`` (holding train/test/val) or its parent.
    :param subtypes: label pneumonia as ``bacterial-pneumonia`` and
        ``viral-pneumonia`` (from the file name) instead of ``pneumonia``.
    :param classes: labels kept; ``[]`` keeps all.
    :param source: the source name recorded on every sample.
    """

    detect_priority = 70
    download = DatasetDownload(
        name="kermany-cxr", url=None, sha256=None, folder="chest_xray", size="about 1.2 GB",
        manual="download ChestXRay2017.zip from Mendeley Data "
               "(https://data.mendeley.com/datasets/rscbjbr9sj/2, doi:10.17632/rscbjbr9sj.2) "
               "or the Kaggle copy paultimothymooney/chest-xray-pneumonia",
    )

    def __init__(self, *, root: Path, subtypes: bool = False, classes: list[str] | None = None,
                 source: str = "kermany") -> None:
        self.root = Path(root).expanduser()
        self.subtypes = subtypes
        self.classes = classes or []
        self.source = source

    @staticmethod
    def _base(path: Path) -> Path | None:
        for base in (path, path / "chest_xray"):
            if any((base / s / "NORMAL").is_dir() for s in _SPLITS):
                return base
        return None

    @classmethod
    def detect(cls, path: Path) -> dict[str, Any] | None:
        """Options for a folder with ``{train,test,val}/NORMAL`` (directly or in chest_xray/)."""
        return {"root": str(path)} if path.is_dir() and cls._base(path) else None

    def samples(self) -> list[Sample]:
        """Every image in every split folder, labelled from its class folder."""
        base = self._base(self.root)
        if base is None:
            raise DataError(f"kermany-cxr root {str(self.root)!r} has no "
                            "{train,test,val}/NORMAL folders", hint="point [data] root at "
                            "the unpacked chest_xray folder")
        out: list[Sample] = []
        for split in _SPLITS:
            for folder in sorted(p for p in (base / split).glob("*") if p.is_dir()):
                for path in image_files(folder):
                    label = folder.name.lower()
                    if label == "pneumonia" and self.subtypes:
                        kind = _PNEUMONIA.match(path.name)
                        if kind:
                            bacterial = kind.group(2).lower() == "bacteria"
                            label = f"{'bacterial' if bacterial else 'viral'}-pneumonia"
                    if self.classes and label not in self.classes:
                        continue
                    patient = patient_of(path.name) or f"{split}/{folder.name}/{path.stem}"
                    out.append(Sample(path=str(path), label=label,
                                      patient_id=f"{self.source}-{patient}", source=self.source,
                                      view="AP", demographics={"age_group": "pediatric"}))
        if not out:
            raise DataError(f"{base}: no images found", hint="check [data] root and classes")
        return out
