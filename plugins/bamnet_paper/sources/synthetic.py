"""``synthetic-cxr``: procedural chest X-ray phantoms, written once to the cache."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
from pydantic import Field

from bamnet_core.contract import DataError, Sample, cache_dir, ensure_room, fingerprint

from ..phantoms import draw, jitter, random_anatomy

_FORMAT_VERSION = 1
# Work bounds (docs/data.md): at most 2 x 20,000 x 20 phantoms of 2048 x 2048 pixels.
MAX_PATIENTS = 20_000
MAX_IMAGES_PER_PATIENT = 20
MAX_SIZE = 2048


class SyntheticCXRSource:
    """Procedural chest X-ray phantoms; the positive class shows bilateral peripheral opacities.

    :param patients_per_class: patients drawn for each class (1 to 20,000).
    :param max_images_per_patient: each patient gets 1 to this many images (at most 20).
    :param size: image width and height in pixels (16 to 2048).
    :param opacity: strength of the positive pattern (1.0 = clearly visible;
        lower is harder).
    :param negative_label: label of phantoms without opacities.
    :param positive_label: label of phantoms with opacities.
    :param seed: the same seed gives the same images.
    :param positive_patients: keep only this many positive-class patients (an
        imbalanced dataset, as the paper's was); default: ``patients_per_class``.
    :param root: where to write the images; default: the bamnet cache.
    """

    def __init__(
        self,
        *,
        patients_per_class: Annotated[int, Field(ge=1, le=MAX_PATIENTS)] = 60,
        max_images_per_patient: Annotated[int, Field(ge=1, le=MAX_IMAGES_PER_PATIENT)] = 2,
        size: Annotated[int, Field(ge=16, le=MAX_SIZE)] = 256,
        opacity: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0,
        negative_label: str = "normal",
        positive_label: str = "covid",
        seed: int = 0,
        root: str | None = None,
        positive_patients: int | None = None,
    ) -> None:
        if patients_per_class < 1 or max_images_per_patient < 1 or size < 16:
            raise DataError("synthetic-cxr needs patients_per_class >= 1, "
                            "max_images_per_patient >= 1 and size >= 16")
        self.params = {
            "patients_per_class": patients_per_class,
            "max_images_per_patient": max_images_per_patient,
            "size": size,
            "opacity": opacity,
            "labels": [negative_label, positive_label],
            "seed": seed,
            "format": _FORMAT_VERSION,
        }
        if positive_patients is not None and not 1 <= positive_patients <= patients_per_class:
            raise ValueError("positive_patients must be between 1 and patients_per_class")
        self.positive_patients = positive_patients
        key = fingerprint(self.params)  # the images do not depend on positive_patients
        self.root = Path(root) if root else cache_dir("synthetic-cxr", key)

    def samples(self) -> list[Sample]:
        """Draw the phantoms if they are not on disk yet, then list them."""
        manifest = self.root / "manifest.csv"
        if not manifest.is_file():
            self._materialise()
        with open(manifest, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return [
            Sample(path=str(self.root / r["file"]), label=r["label"], patient_id=r["patient_id"],
                   source="synthetic-cxr", view="PA",
                   demographics={"age": int(r["age"]), "sex": r["sex"]})
            for r in rows if self._kept(r["label"], r["patient_id"])
        ]

    def _kept(self, label: str, patient_id: str) -> bool:
        if self.positive_patients is None or label != self.params["labels"][1]:
            return True
        return int(patient_id.rsplit("-", 1)[1]) < self.positive_patients

    def _materialise(self) -> None:
        """Write every image and the manifest into a temp folder, then move it in place."""
        p = self.params
        self.root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".synthetic-", dir=self.root.parent))
        try:
            rows = []
            for class_index, label in enumerate(p["labels"]):
                for patient in range(p["patients_per_class"]):
                    rng = np.random.default_rng([p["seed"], class_index, patient])
                    anatomy = random_anatomy(rng, positive=class_index == 1,
                                             opacity=p["opacity"])
                    base = draw(anatomy, rng, p["size"])
                    pid = f"syn-{label}-{patient:04d}"
                    age, sex = int(rng.integers(22, 88)), str(rng.choice(["F", "M"]))
                    for k in range(int(rng.integers(1, p["max_images_per_patient"] + 1))):
                        image = base if k == 0 else jitter(base, rng)
                        name = f"{pid}-{k}.png"
                        ensure_room(tmp, image.nbytes, f"the phantom image {name}")
                        cv2.imwrite(str(tmp / name), image)
                        rows.append({"file": name, "label": label, "patient_id": pid,
                                     "age": age, "sex": sex})
            with open(tmp / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=["file", "label", "patient_id", "age",
                                                        "sex"])
                writer.writeheader()
                writer.writerows(rows)
            if self.root.exists():  # a stale, incomplete folder: replace it
                shutil.rmtree(self.root)
            os.replace(tmp, self.root)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
