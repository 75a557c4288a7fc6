"""A run killed with SIGKILL after an epoch checkpoint resumes and lists each epoch once."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest
from bamnet_testing import TINY_CONFIG, kill_when, python

EPOCHS = 12


def _start(config: Path, out: Path) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}"}
    return subprocess.Popen([python(), "-m", "bamnet_core", "run", str(config), "-o", str(out),
                             "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=root)


@pytest.mark.slow  # ~30 s: a subprocess imports TensorFlow and trains
def test_sigkill_then_resume_continues_from_last_epoch(cli, tmp_path):
    config = tmp_path / "long.toml"
    config.write_text(TINY_CONFIG.replace("epochs = 2", f"epochs = {EPOCHS}"), encoding="utf-8")
    out = tmp_path / "runs"
    proc = _start(config, out)
    state_file = kill_when(proc, out, "*/checkpoint/state.json",
                           lambda state: state["phase_epochs"] >= 1, timeout=120)
    run_dir = state_file.parents[1]
    killed_at = json.loads(state_file.read_text())["phase_epochs"]
    assert killed_at < EPOCHS, "the run finished before it could be killed"
    assert json.loads((run_dir / "meta.json").read_text())["status"] == "running"

    result = cli("run", "--resume", str(run_dir), "--json")
    assert result.exit_code == 0, result.stderr
    with open(run_dir / "history.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "complete" and len(meta["resumed_at"]) == 1
    assert meta["training"]["resumed_from_epoch"] >= killed_at
    assert (run_dir / "model.keras").is_file()
