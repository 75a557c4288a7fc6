"""The files ``bamnet plugins new`` writes, as :class:`string.Template` texts (``$name`` ...).

Placeholders: ``$name`` (the plugin), ``$module`` (``bamnet_<name>``), ``$kind``,
``$component`` (the component's registered name) and ``$klass`` (its class).
"""

from __future__ import annotations

SUFFIX = {"backbone": "net", "source": "csv", "evaluator": "brier"}
CLASS = {"backbone": "Net", "source": "CSVSource", "evaluator": "Brier"}
HOOK = {"backbone": "register_backbones", "source": "register_dataset_sources",
        "evaluator": "register_evaluators"}

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "bamnet-$name"
version = "0.1.0"
description = "A bamnet plugin: the $kind '$component'."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["bamnet"]

[project.optional-dependencies]
test = ["pytest>=8"]

# bamnet finds plugins through this entry-point group.
[project.entry-points.bamnet]
$name = "$module"

[tool.setuptools]
packages = ["$module"]

# Presets are data files: without this line a wheel ships without them.
[tool.setuptools.package-data]
$module = ["presets/*.toml"]
"""

README = """\
# bamnet-$name

A [bamnet](https://pypi.org/project/bamnet/) plugin that adds the $kind `$component` and the
preset `$name`.

```bash
pip install .            # or: bamnet install .
bamnet plugins           # lists $name and what it adds
bamnet run $name         # the preset (see $module/presets/$name.toml)
pip install '.[test]' && pytest
```
"""

_INIT = """\
\"\"\"bamnet-$name: a bamnet plugin that adds the $kind '$component' and a preset.\"\"\"

from __future__ import annotations

from pathlib import Path

from bamnet_core.contract import hookimpl

from .component import $klass

PRESETS = Path(__file__).parent / "presets"


@hookimpl
def {hook}(register):
    \"\"\"Register the $kind '$component'.\"\"\"
    register("$component", $klass)


@hookimpl
def register_presets(register):
    \"\"\"Register the presets shipped in presets/ (package data).\"\"\"
    for path in sorted(PRESETS.glob("*.toml")):
        register(path.stem, path)
"""
INIT = {kind: _INIT.replace("{hook}", hook) for kind, hook in HOOK.items()}

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
    "source": """\
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

    detect_priority = 60  # asked before bamnet's manifest-csv (50)

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

_PRESET_HEAD = """\
# `bamnet run $name`: {what}
[run]
name = "$name"
description = "{what}"

"""
_PHANTOMS = """\
[data]
source = "synthetic-cxr"
classes = ["normal", "covid"]
positive = "covid"
patients_per_class = 16
max_images_per_patient = 1
size = 64

"""
_SMALL = """\
[preprocess]
size = 32
channels = 1

[train]
epochs = 2
batch_size = 8
"""
PRESET = {
    "backbone": _PRESET_HEAD.replace("{what}", "the $component backbone on bamnet's phantoms")
    + _PHANTOMS + '[backbone]\nname = "$component"\n\n' + _SMALL,
    "source": _PRESET_HEAD.replace("{what}", "a small CNN on your CSV; give --set data.path=")
    + '[data]\nsource = "$component"\nclasses = ["normal", "covid"]\npositive = "covid"\n\n'
    + '[backbone]\nname = "small-cnn"\nfilters = [4, 8]\ndense = 8\n\n' + _SMALL,
    "evaluator": _PRESET_HEAD.replace("{what}", "a small CNN on phantoms, scored by $component")
    + _PHANTOMS + '[backbone]\nname = "small-cnn"\nfilters = [4, 8]\ndense = 8\n\n'
    + '[evaluate]\nevaluators = ["classification", "$component"]\n\n' + _SMALL,
}

_TEST_HEAD = """\
\"\"\"Tests for bamnet-$name: load the plugin as bamnet does, and run its preset.\"\"\"

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

import $module
from bamnet_core.testing import load_installed, load_with, run_preset

KIND = "{kind}"


def test_the_plugin_registers_its_component_and_preset():
    host = load_with($module)
    assert not host.failures, host.failures
    assert "$component" in host.registry.names(KIND)
    assert "$name" in host.registry.names("preset")


def test_the_installed_distribution_is_found_by_bamnet():
    if "$name" not in {ep.name for ep in entry_points(group="bamnet")}:
        pytest.skip("bamnet-$name is not installed; `pip install .` checks the entry point")
    host = load_installed("$name")
    assert not host.failures, host.failures
    assert "$component" in host.registry.names(KIND)
"""
_RUN_PHANTOMS = """

def test_its_preset_runs_end_to_end(tmp_path: Path):
    result = run_preset("$name", plugins=[("$name", $module)], output_dir=tmp_path)
    assert (result.run_dir / "model.keras").is_file()
    assert result.metrics["splits"]["val"]["images"] > 0
"""
TEST = {
    "backbone": _TEST_HEAD.replace("{kind}", "backbone") + _RUN_PHANTOMS,
    "evaluator": _TEST_HEAD.replace("{kind}", "evaluator") + _RUN_PHANTOMS + """

def test_the_score_is_right_on_known_numbers():
    import numpy as np

    from $module.component import $klass

    result = $klass().evaluate(np.array([0, 1]), np.array([[1.0, 0.0], [0.5, 0.5]]),
                               class_names=["normal", "covid"], positive="covid",
                               threshold=0.5)
    assert result == {"brier": 0.125, "images": 2}
""",
    "source": _TEST_HEAD.replace("{kind}", "dataset_source") + """

def _write_dataset(folder: Path) -> Path:
    import cv2
    import numpy as np

    rows = ["file,finding,subject"]
    rng = np.random.default_rng(0)
    for i in range(24):
        finding = "COVID-19" if i % 2 else "No Finding"
        image = rng.normal(80 + 60 * (i % 2), 10, (40, 40)).clip(0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"img{i}.png"), image)
        rows.append(f"img{i}.png,{finding},p{i // 2}")
    (folder / "list.csv").write_text("\\n".join(rows) + "\\n", encoding="utf-8")
    return folder / "list.csv"


def test_its_preset_runs_on_a_csv_with_its_own_column_names(tmp_path: Path):
    listing = _write_dataset(tmp_path)
    result = run_preset("$name", plugins=[("$name", $module)], output_dir=tmp_path / "runs",
                        overrides=[f"data.path={listing}"])
    assert result.metrics["splits"]["val"]["images"] > 0


def test_a_missing_column_is_a_clear_error(tmp_path: Path):
    from bamnet_core.contract import DataError

    from $module.component import $klass

    listing = _write_dataset(tmp_path)
    with pytest.raises(DataError, match="missing column"):
        $klass(path=listing, label_column="diagnosis").samples()
""",
}
