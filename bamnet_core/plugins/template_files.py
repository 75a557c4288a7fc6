"""The files ``bamnet plugins new`` writes, as :class:`string.Template` texts (``$name`` ...).

Placeholders: ``$name`` (the plugin), ``$module`` (``bamnet_<name>``), ``$kind`` (the
kind's label, ``dataset source``), ``$component`` (the component's registered name) and
``$klass`` (its class).
"""

from __future__ import annotations

from ..contract.kinds import BY_NAME

# Each text is keyed by the name of its kind in the table of kinds (``contract.kinds``).
SUFFIX = {"backbone": "net", "dataset_source": "csv", "evaluator": "brier"}
CLASS = {"backbone": "Net", "dataset_source": "CSVSource", "evaluator": "Brier"}

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
INIT = {name: _INIT.replace("{hook}", BY_NAME[name].hook) for name in SUFFIX}

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
    "dataset_source": _PRESET_HEAD.replace("{what}",
                                           "a small CNN on your CSV; give --set data.path=")
    + '[data]\nsource = "$component"\nclasses = ["normal", "covid"]\npositive = "covid"\n\n'
    + '[backbone]\nname = "small-cnn"\nfilters = [4, 8]\ndense = 8\n\n' + _SMALL,
    "evaluator": _PRESET_HEAD.replace("{what}", "a small CNN on phantoms, scored by $component")
    + _PHANTOMS + '[backbone]\nname = "small-cnn"\nfilters = [4, 8]\ndense = 8\n\n'
    + '[evaluate]\nevaluators = ["$component"]\n\n' + _SMALL,
}

_TEST_HEAD = """\
\"\"\"Tests for bamnet-$name: its component keeps bamnet's contract, bamnet loads it, and its
preset runs.\"\"\"

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

import $module
from bamnet_core.testing import {check}, load_installed, load_with, run_preset

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
    assert result.run_dir.is_dir() and result.metrics.headline
    assert result.metrics.splits["val"].images > 0
"""
TEST = {
    "backbone": _TEST_HEAD.replace("{kind}", "backbone").replace("{check}", "check_backbone")
    + _RUN_PHANTOMS + """

def test_the_backbone_keeps_the_contract():
    from $module.component import $klass

    check_backbone($klass(filters=2))  # a Keras model of the right shapes, softmax out
""",
    "evaluator": _TEST_HEAD.replace("{kind}", "evaluator").replace("{check}", "check_evaluator")
    + _RUN_PHANTOMS + """

def test_the_evaluator_keeps_the_contract(tmp_path: Path):
    from $module.component import $klass

    check_evaluator($klass(), tmp_path)  # JSON-ready results on a tiny synthetic split


def test_the_score_is_right_on_known_numbers():
    import numpy as np

    from $module.component import $klass

    result = $klass().evaluate(np.array([0, 1]), np.array([[1.0, 0.0], [0.5, 0.5]]),
                               class_names=["normal", "covid"], positive="covid",
                               threshold=0.5)
    assert result == {"brier": 0.125, "images": 2}
""",
    "dataset_source": _TEST_HEAD.replace("{kind}", "dataset_source")
    .replace("{check}", "check_source") + """

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
    assert result.metrics.splits["val"].images > 0


def test_the_source_keeps_the_contract(tmp_path: Path):
    from $module.component import $klass

    check_source($klass(path=_write_dataset(tmp_path)))  # Samples, each image once, stable


def test_a_missing_column_is_a_clear_error(tmp_path: Path):
    from bamnet_core.contract import DataError

    from $module.component import $klass

    listing = _write_dataset(tmp_path)
    with pytest.raises(DataError, match="missing column"):
        $klass(path=listing, label_column="diagnosis").samples()
""",
}
