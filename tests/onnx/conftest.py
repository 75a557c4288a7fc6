"""Session fixtures for export and scoring: one tiny trained run, one exported model.

Training and exporting take seconds; every test in this folder shares them.
Tests that change the run folder copy it first (:func:`run_copy`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from bamnet_testing import TINY_CONFIG as BASE_TINY_CONFIG

from bamnet_core.runs import layout

# more patients and epochs than the base config: the int8 gate needs a model better than chance
TINY_CONFIG = BASE_TINY_CONFIG.replace('name = "tiny"', 'name = "tiny-onnx"').replace(
    "patients_per_class = 12", "patients_per_class = 30").replace("epochs = 2", "epochs = 8"
    ).replace("val = 0.3", "val = 0.3\ntest = 0.0")  # every held-out image gates the export


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tiny run folder (small-cnn, 32x32 phantoms, 8 epochs)."""
    from bamnet_core.config.load import load_config
    from bamnet_core.experiment.runner import run_experiment
    from bamnet_core.plugins import load_plugins

    base = tmp_path_factory.getbasetemp()
    with pytest.MonkeyPatch.context() as mp:
        # the same cache the function-scoped autouse fixture points at
        mp.setenv("BAMNET_CACHE_DIR", str(base / "bamnet-cache"))
        mp.setenv("BAMNET_LOAD_PLUGINS", "")
        config_path = tmp_path_factory.mktemp("onnx-config") / "tiny.toml"
        config_path.write_text(TINY_CONFIG, encoding="utf-8")
        host = load_plugins()
        config = load_config(str(config_path), host.registry)
        result = run_experiment(config, host, output_dir=tmp_path_factory.mktemp("onnx-runs"))
    return result.run_dir


@pytest.fixture(scope="session")
def exported_model(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model.onnx`` (fp32, parity-checked) from :func:`trained_run`, in its own folder."""
    from bamnet_core.experiment.export_stage import carried_facts
    from bamnet_core.export.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("onnx-model") / layout.ONNX
    export_onnx(trained_run, carried=carried_facts(trained_run), output=out)
    return out


@pytest.fixture
def run_copy(trained_run: Path, tmp_path: Path) -> Path:
    """A copy of :func:`trained_run` that a test may modify (splits.csv paths stay valid)."""
    target = tmp_path / trained_run.name
    shutil.copytree(trained_run, target)
    for leftover in (layout.ONNX, layout.EXPORT_REPORT):
        if (target / leftover).exists():
            os.remove(target / leftover)
    return target
