"""Slow GAN resume checks: a whole run interrupted mid-GAN, and a real SIGKILL."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest
from bamnet_testing import kill_parked, parked_bamnet
from gan_fixtures import tiny_gan_config

from bamnet_core.config.load import load_config
from bamnet_core.experiment.runner import resume_experiment, run_experiment
from bamnet_core.plugins import load_plugins
from bamnet_core.runs import layout
from bamnet_paper.generators import checkpoint as gan_checkpoint

EPOCHS = 40


def _losses(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / layout.GENERATOR / "losses.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow  # two runs with a GAN
def test_a_run_interrupted_during_the_gan_resumes_it_from_its_last_epoch(tmp_path):
    config = tmp_path / "gan.toml"
    config.write_text(tiny_gan_config(epochs=6), encoding="utf-8")
    host = load_plugins()
    cfg = load_config(str(config), host.registry, overrides=["train.epochs=1"])

    def stop(event):
        if event.stage == "generator" and event.fields.get("epoch") == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, host, output_dir=tmp_path / "runs", progress=stop)
    run_dir = next((tmp_path / "runs").iterdir())
    before = _losses(run_dir)
    assert [r["epoch"] for r in before] == ["1", "2", "3"]
    events = []
    result = resume_experiment(run_dir, host, progress=events.append)
    after = _losses(run_dir)
    assert [int(r["epoch"]) for r in after] == [1, 2, 3, 4, 5, 6] and after[:3] == before
    assert {e.fields["epoch"] for e in events if e.stage == "generator" and
            "epoch" in e.fields} == {4, 5, 6}
    assert result.metrics.generator.synthetic > 0


@pytest.mark.slow  # a subprocess imports TensorFlow and trains a GAN
def test_sigkill_during_gan_training_then_resume(cli, tmp_path):
    config = tmp_path / "gan.toml"
    config.write_text(tiny_gan_config(epochs=EPOCHS), encoding="utf-8")
    out = tmp_path / "runs"
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}"}
    # the child parks once the GAN has checkpointed its second epoch, and is killed there
    marker = tmp_path / "parked"
    proc = subprocess.Popen(parked_bamnet("bamnet_paper.generators.checkpoint:save_epoch", 2,
                                          marker, "run", str(config), "-o", str(out),
                                          "--set", "train.epochs=1", "--json"), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
    kill_parked(proc, marker)
    (state_file,) = out.glob(f"*/{layout.GENERATOR}/{gan_checkpoint.FOLDER}/{gan_checkpoint.STATE}")
    run_dir = state_file.parents[2]
    assert json.loads(state_file.read_text())["epoch"] == 2 < EPOCHS
    result = cli("run", "--resume", str(run_dir), "--json")
    assert result.exit_code == 0, result.stderr
    assert [int(r["epoch"]) for r in _losses(run_dir)] == list(range(1, EPOCHS + 1))
    state = json.loads(state_file.read_text())
    assert state["finished"] and state["epoch"] == EPOCHS
    assert json.loads((run_dir / layout.META).read_text())["status"] == "complete"
