"""The component module that `bamnet plugins new` writes, one text per kind (by its name)."""

from __future__ import annotations

COMPONENT = {
    "backbone": """\
\"\"\"The backbone '$component': a small CNN written with keras.layers only.\"\"\"

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field


class $klass:
    \"\"\"A small CNN: two convolution blocks, global pooling, a softmax classifier.

    Its keyword parameters are the keys [backbone] accepts; their annotations are checked
    when bamnet loads a config (see bamnet's docs/plugins/options.md).

    :param filters: filters of the first block (the second has twice as many).
    :param dropout: dropout before the classifier.
    \"\"\"

    def __init__(self, *, filters: Annotated[int, Field(ge=1)] = 8,
                 dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.2) -> None:
        self.filters = filters
        self.dropout = dropout

    def build(self, input_shape: tuple[int, int, int], num_classes: int) -> Any:
        \"\"\"The model: images -> class probabilities (a float32 softmax).\"\"\"
        import keras  # inside the method, so `bamnet --help` stays instant

        inputs = keras.Input(shape=input_shape, name="image")
        x = inputs
        for i, width in enumerate((self.filters, 2 * self.filters), start=1):
            x = keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                    name=f"block{i}_conv")(x)
            x = keras.layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
        x = keras.layers.Dropout(self.dropout, name="head_dropout")(x)
        outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                                     name="predictions")(x)
        return keras.Model(inputs, outputs, name="$module")
""",
    "dataset_source": """\
\"\"\"The dataset source '$component': images listed in a CSV with its own column names.\"\"\"

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from bamnet_core.contract import DataError, Sample


class $klass:
    \"\"\"Images listed in a CSV whose columns are named your way.

    :param path: the CSV file; relative image paths resolve against its folder.
    :param image_column: the column holding each image's path.
    :param label_column: the column holding each image's finding.
    :param patient_column: the column holding the patient id (none: one patient per image).
    :param label_map: finding as written in the CSV -> class name used in the config.
    \"\"\"

    detect_priority = 60  # manifest-csv (90) claims only CSVs with path,label columns

    def __init__(self, *, path: Path, image_column: str = "file",
                 label_column: str = "finding", patient_column: str | None = "subject",
                 label_map: dict[str, str] | None = None) -> None:
        self.path = path
        self.columns = (image_column, label_column, patient_column)
        self.label_map = label_map if label_map is not None else {
            "COVID-19": "covid", "No Finding": "normal"}

    @classmethod
    def detect(cls, path: Path) -> dict[str, Any] | None:
        \"\"\"Claim a CSV whose header has the default columns (for `bamnet data inspect`).\"\"\"
        if path.is_file() and path.suffix.lower() == ".csv":
            with open(path, newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh), [])
            if {"file", "finding"} <= set(header):
                return {"path": str(path)}
        return None

    def samples(self) -> list[Sample]:
        \"\"\"One sample per row, in file order.\"\"\"
        image, label, patient = self.columns
        try:
            with open(self.path, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as exc:
            raise DataError(f"{self.path}: cannot read: {exc.strerror or exc}",
                            hint="check [data] path") from None
        needed = [c for c in (image, label, patient) if c]
        missing = [c for c in needed if rows and c not in rows[0]]
        if not rows or missing:
            raise DataError(f"{self.path}: no rows, or missing column(s) {missing}",
                            hint="set [data] image_column / label_column / patient_column to "
                                 "your CSV's column names")
        out = []
        for row in rows:
            file = Path(row[image])
            file = file if file.is_absolute() else self.path.parent / file
            out.append(Sample(path=str(file),
                              label=self.label_map.get(row[label], row[label]),
                              patient_id=row[patient] if patient else str(file),
                              source=self.path.stem))
        return out
""",
    "evaluator": """\
\"\"\"The evaluator '$component': the Brier score of the positive class.\"\"\"

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class $klass:
    \"\"\"Brier score: the mean squared gap between the positive-class probability and the truth.

    0 is perfect; 0.25 is what always answering 0.5 scores. Return plain numbers: bamnet
    converts numpy scalars, and refuses NaN (return None for an undefined metric).
    \"\"\"

    def evaluate(self, y_true: np.ndarray, y_prob: np.ndarray, *,
                 class_names: Sequence[str], positive: str,
                 threshold: float) -> dict[str, Any]:
        \"\"\"The score on one split.\"\"\"
        pos = list(class_names).index(positive)
        truth = (np.asarray(y_true) == pos).astype(np.float64)
        if not len(truth):
            return {"brier": None, "images": 0}
        gap = np.asarray(y_prob, dtype=np.float64)[:, pos] - truth
        return {"brier": float(np.mean(gap ** 2)), "images": int(len(truth))}
""",
}
