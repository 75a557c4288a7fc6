"""``covid-radiography-db``: the Kaggle COVID-19 Radiography Database folder layout.

Two layouts exist: the 2020 release (``COVID-19/``, ``NORMAL/``,
``Viral Pneumonia/`` holding images) and the 2021+ releases (``COVID/images/``,
``Normal/images/``, ``Lung_Opacity/images/``, ``Viral Pneumonia/images/``,
with ``masks/`` beside). Each class has a ``<CLASS>.metadata.xlsx`` whose
``URL`` column names the sub-source of every image (ieee8023, SIRM, BIMCV,
RSNA, Kermany...). No xlsx reader is a dependency: a ``.csv`` export of
that sheet beside it is read; the ``.xlsx`` itself is skipped with a note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bamnet_core.contract import DataError, DatasetDownload, Sample

from .common import image_files, label_for, read_csv

DEFAULT_LABEL_MAP = {"COVID": "covid", "COVID-19": "covid", "Normal": "normal",
                     "Viral Pneumonia": "viral-pneumonia", "Lung_Opacity": "lung-opacity"}
# URL fragment in the metadata -> short sub-source name
SUB_SOURCES = (("ieee8023", "ieee8023"), ("covid-chestxray-dataset", "ieee8023"),
               ("sirm", "sirm"), ("bimcv", "bimcv"), ("eurorad", "eurorad"),
               ("rsna", "rsna"), ("chest-xray-pneumonia", "kermany"), ("github.com/ml-workgroup",
                                                                        "germany-ml-workgroup"),
               ("figure1", "figure1"), ("actualmed", "actualmed"))


def sub_source(url: str) -> str:
    """A short name for the collection a metadata URL points at."""
    lowered = url.lower()
    for fragment, name in SUB_SOURCES:
        if fragment in lowered:
            return name
    return "covid-radiography-db:other"


class CovidRadiographySource:
    """Kaggle "COVID-19 Radiography Database" (Chowdhury et al., Rahman et al.).

    :param root: the unpacked dataset folder (``COVID-19_Radiography_Dataset``
        or ``COVID-19 Radiography Database``).
    :param classes: labels kept, after ``label_map``; ``[]`` keeps all.
    :param label_map: class folder -> label.
    :param source: name used when no metadata gives an image's sub-source.
    """

    detect_priority = 70
    download = DatasetDownload(
        name="covid-radiography-db", url=None, sha256=None,
        folder="COVID-19_Radiography_Dataset", size="about 800 MB",
        manual="sign in to Kaggle and download "
               "https://www.kaggle.com/datasets/tawsifurrahman/covid19-radiography-database "
               "(or `kaggle datasets download tawsifurrahman/covid19-radiography-database`)",
    )

    def __init__(self, *, root: Path, classes: list[str] | None = None,
                 label_map: dict[str, str] | None = None,
                 source: str = "covid-radiography-db") -> None:
        self.root = Path(root).expanduser()
        self.classes = ["covid", "normal"] if classes is None else classes
        self.label_map = {**DEFAULT_LABEL_MAP, **(label_map or {})}
        self.source = source
        self.notes: list[str] = []

    @classmethod
    def detect(cls, path: Path) -> dict[str, Any] | None:
        """Options for a folder with COVID and Normal class folders and ``*.metadata.*`` files."""
        if not path.is_dir():
            return None
        names = {p.name.lower() for p in path.iterdir()}
        has_classes = ({"covid", "normal"} <= names) or ({"covid-19", "normal"} <= names)
        has_meta = any(n.endswith((".metadata.xlsx", ".metadata.csv")) for n in names)
        return {"root": str(path)} if has_classes and has_meta else None

    def _metadata(self, folder: Path) -> dict[str, str]:
        """File stem -> sub-source, from ``<folder>.metadata.csv`` if there is one."""
        csv_path = self.root / f"{folder.name}.metadata.csv"
        xlsx_path = self.root / f"{folder.name}.metadata.xlsx"
        if not csv_path.is_file():
            if xlsx_path.is_file():
                self.notes.append(f"skipped {xlsx_path.name} (xlsx is not read; save it as "
                                  f"{csv_path.name} to record each image's sub-source)")
            return {}
        rows = read_csv(csv_path)
        key = next((k for k in (rows[0] if rows else {}) if k.strip().upper() == "FILE NAME"),
                   None)
        url = next((k for k in (rows[0] if rows else {}) if k.strip().upper() == "URL"), None)
        if key is None or url is None:
            self.notes.append(f"{csv_path.name}: no 'FILE NAME' and 'URL' columns; ignored")
            return {}
        return {r[key].strip().lower(): sub_source(r[url] or "") for r in rows}

    def samples(self) -> list[Sample]:
        """Every image of the kept classes; one patient per image (the database has no ids)."""
        if not self.root.is_dir():
            raise DataError(f"covid-radiography-db root {str(self.root)!r} is not a folder",
                            hint="point [data] root at the unpacked Kaggle folder")
        out: list[Sample] = []
        for folder in sorted(d for d in self.root.iterdir() if d.is_dir()):
            label = label_for(folder.name, self.label_map, lowercase=True)
            if self.classes and label not in self.classes:
                continue
            images = folder / "images" if (folder / "images").is_dir() else folder
            subs = self._metadata(folder)
            for path in image_files(images):
                source = subs.get(path.stem.lower(), self.source)
                out.append(Sample(path=str(path), label=label,
                                  patient_id=f"{self.source}-{path.stem}", source=source))
        self.notes.append("the database has no patient ids: one patient per image, so a "
                          "patient-grouped split cannot keep a patient's images together")
        if not out:
            raise DataError(f"{self.root}: no images for classes {self.classes}",
                            hint="check [data] root and classes")
        return out
