"""A resumed run is the run it replaces: the same history, weights and metrics.

The run is stopped in-process after an epoch's checkpoint (the fast version,
in the default suite) or killed with SIGKILL in a subprocess (slow), then
resumed, and compared with a run that went through, on CPU with TensorFlow
op determinism on. Dropout and augmentation are on, so each epoch's random draws must match.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import keras
import numpy as np
import pytest
from bamnet_testing import TINY_CONFIG, kill_parked, parked_bamnet

from bamnet_core.runs import layout

EPOCHS = 4
CONFIG = TINY_CONFIG.replace("epochs = 2", f"epochs = {EPOCHS}").replace(
    "dense = 8", "dense = 8\ndropout = 0.5") + "augment = { rotation = 10.0, zoom = 0.1 }\n"


def _history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / layout.HISTORY, encoding="utf-8") as fh:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]


def _assert_close(a: object, b: object) -> None:
    """Equal JSON values, numbers within 1e-6."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for key in a:
            _assert_close(a[key], b[key])
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_close(x, y)
    elif isinstance(a, float):
        assert b == pytest.approx(a, abs=1e-6)
    else:
        assert a == b


def _assert_same_run(a: Path, b: Path) -> None:
    ha, hb = _history(a), _history(b)
    assert [r["epoch"] for r in hb] == [str(i) for i in range(1, EPOCHS + 1)]
    for ra, rb in zip(ha, hb, strict=True):
        assert ra.keys() == rb.keys()
        for key in ra:
            if key == "phase":
                assert ra[key] == rb[key]
            else:
                assert float(ra[key]) == pytest.approx(float(rb[key]), abs=1e-6), (key, ra, rb)
    wa = keras.models.load_model(a / layout.MODEL).get_weights()
    wb = keras.models.load_model(b / layout.MODEL).get_weights()
    for x, y in zip(wa, wb, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-6)
    ma = json.loads((a / layout.METRICS).read_text())["splits"]
    mb = json.loads((b / layout.METRICS).read_text())["splits"]
    _assert_close(ma, mb)
    meta_a = json.loads((a / layout.META).read_text())["training"]
    meta_b = json.loads((b / layout.META).read_text())["training"]
    assert meta_a["best_epoch"] == meta_b["best_epoch"] == meta_b["model_epoch"]


def _through(cli, config: Path, out: Path) -> Path:
    result = cli("run", str(config), "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["run_dir"])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "dropout.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_resumed_run_equals_the_uninterrupted_run(cli, tmp_path, config):
    from bamnet_core.config.load import load_config
    from bamnet_core.experiment.runner import run_experiment
    from bamnet_core.plugins import load_plugins

    class Stop(KeyboardInterrupt):
        pass

    def stop_in_epoch_3(event):
        if event.stage == "train" and event.fields.get("epoch") == 3:
            raise Stop

    reference = _through(cli, config, tmp_path / "through")
    host = load_plugins()
    with pytest.raises(KeyboardInterrupt) as stopped:  # an Interrupted saying what is kept
        run_experiment(load_config(str(config), host.registry), host,
                       output_dir=tmp_path / "stopped", progress=stop_in_epoch_3)
    assert isinstance(stopped.value.__cause__, Stop)
    assert "keeps the finished stages (data, audit)" in stopped.value.kept
    (run_dir,) = (tmp_path / "stopped").iterdir()
    assert json.loads((run_dir / layout.META).read_text())["status"] == "interrupted"
    assert [r["epoch"] for r in _history(run_dir)] == ["1", "2"]
    result = cli("run", "--resume", str(run_dir), "--json")
    assert result.exit_code == 0, result.stderr
    _assert_same_run(reference, run_dir)
    meta = json.loads((run_dir / layout.META).read_text())
    assert meta["training"]["resumed_from_epoch"] == 2 and meta["status"] == "complete"


def _kill_after_epoch(config: Path, out: Path, epoch: int) -> Path:
    """Run in a child that parks once it has checkpointed ``epoch``, and SIGKILL it there."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}"}
    marker = out.with_name(out.name + ".parked")
    proc = subprocess.Popen(parked_bamnet("bamnet_core.train.callbacks:save_state", epoch,
                                          marker, "run", str(config), "-o", str(out), "--json"),
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=root)
    kill_parked(proc, marker)
    (found,) = out.glob(f"*/{layout.CHECKPOINT}/{layout.CHECKPOINT_STATE}")
    return found.parents[1]


@pytest.mark.slow  # a subprocess per kill imports TensorFlow and trains
@pytest.mark.parametrize("epoch", [1, 2, 3])
def test_sigkill_after_any_epoch_then_resume_equals_the_uninterrupted_run(cli, tmp_path,
                                                                        config, epoch):
    reference = _through(cli, config, tmp_path / "through")
    run_dir = _kill_after_epoch(config, tmp_path / "killed", epoch)
    state = json.loads((run_dir / layout.CHECKPOINT / layout.CHECKPOINT_STATE).read_text())
    assert state["phase_epochs"] == epoch < EPOCHS
    assert json.loads((run_dir / layout.META).read_text())["status"] == "running"
    result = cli("run", "--resume", str(run_dir), "--json")
    assert result.exit_code == 0, result.stderr
    _assert_same_run(reference, run_dir)
    meta = json.loads((run_dir / layout.META).read_text())
    assert meta["status"] == "complete" and len(meta["resumed_at"]) == 1
    assert meta["training"]["resumed_from_epoch"] == state["phase_epochs"]
