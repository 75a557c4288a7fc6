"""``image-folder``: ``root/<class>/**/<image>``, the simplest layout there is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bamnet_core.contract import DataError, Sample

from .common import image_files, label_for


class ImageFolderSource:
    """Images in one sub-folder per class (``root/covid/...``, ``root/normal/...``).

    :param root: the folder holding one sub-folder per class.
    :param label_map: folder name -> label (case-insensitive), e.g.
        ``{"COVID-19" = "covid"}``; other folders use their own name.
    :param lowercase: lower-case folder names used as labels.
    :param source: the source name recorded on every sample; default the
        root folder's name.
    :param patient_pattern: a regular expression whose first group, searched
        in the file name, is the patient id; default: one patient per image.
    :param view: the view recorded on every sample, if known.
    """

    detect_priority = 0  # the fallback for any folder of class folders

    def __init__(self, *, root: Path, label_map: dict[str, str] | None = None,
                 lowercase: bool = True, source: str | None = None,
                 patient_pattern: str | None = None, view: str | None = None) -> None:
        self.root = Path(root).expanduser()
        self.label_map = label_map or {}
        self.lowercase = lowercase
        self.source = source or self.root.resolve().name
        self.view = view
        try:
            self.pattern = re.compile(patient_pattern) if patient_pattern else None
        except re.error as exc:
            raise DataError(f"image-folder patient_pattern {patient_pattern!r} is not a valid "
                            f"regular expression: {exc}") from None

    @classmethod
    def detect(cls, path: Path) -> dict[str, Any] | None:
        """Options to read ``path`` if it is a folder of class folders holding images."""
        if not path.is_dir():
            return None
        classes = [d for d in path.iterdir() if d.is_dir() and not d.name.startswith(".")
                   and next(image_files(d), None) is not None]
        return {"root": str(path)} if classes else None

    def _patient(self, path: Path) -> str:
        if self.pattern is not None:
            match = self.pattern.search(path.name)
            if match:
                return f"{self.source}-{match.group(1) if match.groups() else match.group(0)}"
        return f"{self.source}-{path.relative_to(self.root).as_posix()}"

    def samples(self) -> list[Sample]:
        """One sample per image file under each class folder."""
        if not self.root.is_dir():
            raise DataError(f"image-folder root {str(self.root)!r} is not a folder",
                            hint="set [data] root to a folder with one sub-folder per class")
        out: list[Sample] = []
        for folder in sorted(d for d in self.root.iterdir() if d.is_dir()
                             and not d.name.startswith(".")):
            label = label_for(folder.name, self.label_map, self.lowercase)
            for path in image_files(folder):
                out.append(Sample(path=str(path), label=label, patient_id=self._patient(path),
                                  source=self.source, view=self.view))
        if not out:
            raise DataError(f"image-folder root {str(self.root)!r} has no images in class "
                            "sub-folders", hint="expected root/<class>/<image files>")
        return out
