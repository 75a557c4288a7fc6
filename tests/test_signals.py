"""SIGTERM stops a command like Ctrl-C: status recorded, one line naming what was kept and how
to continue; a full disk is one ``Error:`` line and a failed status."""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from bamnet_testing import TINY_CONFIG, parked_bamnet, wait_parked
from onnx_fixtures import write_tiny_model

from bamnet_core.runs import layout

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
BAMNET = [sys.executable, "-c", "from bamnet_core.cli import main; main()"]


def rows(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["path"] for row in csv.DictReader(fh)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_score_stopped_by_a_signal_says_how_to_continue(tmp_path, sig):
    model = write_tiny_model(tmp_path / "m.onnx")
    images = tmp_path / "imgs"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1500):
        cv2.imwrite(str(images / f"{i:05d}.png"), rng.integers(0, 255, (8, 8), dtype=np.uint8))
    out = tmp_path / "s.csv"
    cmd = [*BAMNET, "score", str(model), str(images), "-o", str(out), "--batch-size", "1"]
    marker = tmp_path / "parked"  # the child parks after its 40th row: signalled mid-run
    proc = subprocess.Popen(parked_bamnet("bamnet_core.score.output:RecordWriter.write", 40,
                                          marker, *cmd[len(BAMNET):]),
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_parked(proc, marker)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    line = next(x for x in stderr.splitlines() if x.startswith("Interrupted:"))
    assert f"the rows written so far are in {out}" in line
    assert line.endswith(f"--output {out} --resume")
    assert not (tmp_path / "s.csv.lock").exists()
    resumed = subprocess.run([*cmd, "--resume"], env=ENV, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    done = rows(out)
    assert len(done) == len(set(done)) == 1500


def test_sigterm_during_training_records_interrupted_and_names_bamnet_resume(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_CONFIG.replace("epochs = 2", "epochs = 200"))
    runs = tmp_path / "runs"
    marker = tmp_path / "parked"  # the child parks after its first epoch's checkpoint
    proc = subprocess.Popen(parked_bamnet("bamnet_core.train.callbacks:save_state", 1, marker,
                                          "run", str(config), "-o", str(runs)), env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_parked(proc, marker)
    assert any(runs.glob(f"*/{layout.CHECKPOINT}/{layout.CHECKPOINT_STATE}"))
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    run = next(runs.iterdir())
    meta = json.loads((run / layout.META).read_text())
    assert meta["status"] == "interrupted"
    line = next(x for x in stderr.splitlines() if x.startswith("Interrupted:"))
    assert f"run folder {run} keeps the finished stages (data" in line
    assert "the last completed training epoch" in line
    assert line.endswith(f"Continue with: bamnet resume {run}")
    assert not (run / layout.LOCK).exists()


def test_a_full_disk_during_a_run_is_one_error_line_and_a_failed_status(tmp_path, cli,
                                                                       monkeypatch):
    """ENOSPC as the checkpoint writer meets it (the real disk is simulated by the writer)."""
    from bamnet_core.train import checkpoint

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "save_state", full)
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_CONFIG)
    monkeypatch.setattr("bamnet_core.train.callbacks.save_state", full)
    result = cli("run", str(config), "-o", str(tmp_path / "runs"))
    assert result.exit_code == 1
    errors = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    assert len(errors) == 1 and "no space left on device while writing" in errors[0]
    assert "unexpected" not in result.stderr
    run = next((tmp_path / "runs").iterdir())
    meta = json.loads((run / layout.META).read_text())
    assert meta["status"] == "failed" and "no space left" in meta["error"]


def test_meta_json_is_recorded_in_place_when_no_new_file_fits(tmp_path, monkeypatch):
    from bamnet_core._util import atomic
    from bamnet_core.experiment.context import RunContext
    from bamnet_core.runs.files import MetaFile
    from bamnet_core.runs.folder import RunFolder

    run = RunFolder(tmp_path)
    run.write_text(layout.META, json.dumps({"status": "running", "padding": "x" * 200}))
    meta = {"bamnet_version": "0.1.0", "status": "failed"}
    ctx = RunContext(config=None, registry=None, run=run,  # type: ignore[arg-type]
                     meta=MetaFile(**meta))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "write_json", full)
    ctx.save_meta()
    assert json.loads((tmp_path / layout.META).read_text()) == {"schema_version": 1, **meta}


def tiny_tmpfs(tmp_path: Path, size: str) -> Path:
    """A tmpfs of ``size`` mounted under ``tmp_path`` (skips where mounting is not allowed)."""
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    return mount


def test_scoring_onto_a_really_full_disk(tmp_path, cli):
    model = write_tiny_model(tmp_path / "m.onnx")
    images = tmp_path / "imgs"
    images.mkdir()
    for i in range(300):
        cv2.imwrite(str(images / f"{i:05d}-{'x' * 150}.png"), np.full((8, 8), i % 255, np.uint8))
    mount = tiny_tmpfs(tmp_path, "16k")
    try:
        out = mount / "s.csv"
        result = cli("score", str(model), str(images), "-o", str(out), "--batch-size", "8")
        assert result.exit_code == 1
        errors = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
        assert len(errors) == 1 and f"cannot write {out}: No space left on device" in errors[0]
        assert "unexpected" not in result.stderr
        written = rows(out)
        assert 0 < len(written) < 300 and len(written) == len(set(written))
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_run_onto_a_really_full_disk(tmp_path, cli):
    mount = tiny_tmpfs(tmp_path, "150k")
    try:
        config = tmp_path / "tiny.toml"
        config.write_text(TINY_CONFIG)
        result = cli("run", str(config), "-o", str(mount / "runs"))
        assert result.exit_code == 1
        errors = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
        # the free-space check before best.keras, or the write itself, names it
        assert len(errors) == 1 and "no space left on device" in errors[0]
        run = next((mount / "runs").iterdir())
        assert f"continue with: bamnet resume {run}" in result.stderr
        meta = json.loads((run / layout.META).read_text())
        assert meta["status"] == "failed" and "no space left" in meta["error"]
    finally:
        subprocess.run(["umount", str(mount)], check=False)



FORKED = """
import multiprocessing, signal, time
from bamnet_core.cli.signals import terminate_like_interrupt

terminate_like_interrupt()
fork = multiprocessing.get_context("fork")
child = fork.Process(target=time.sleep, args=(60,))
child.start()
time.sleep(0.5)
child.terminate()  # what Pool.terminate() does to each worker (cleanlab's pools fork)
child.join()
print(child.exitcode, flush=True)
pool = fork.Pool(2)
print(sum(pool.map(abs, range(-50, 50))), flush=True)
pool.terminate()
pool.join()
try:
    signal.raise_signal(signal.SIGTERM)  # the process that installed it: Ctrl-C's path
except KeyboardInterrupt as exc:
    print("interrupted:", exc)
"""


def test_a_forked_worker_still_dies_of_sigterm_while_the_cli_turns_it_into_an_interrupt():
    """An inherited handler made a worker survive its pool's terminate(); the parent hung."""
    done = subprocess.run([sys.executable, "-c", FORKED], env=ENV, capture_output=True,
                          text=True, timeout=120)  # a hang fails the test instead of the suite
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(-signal.SIGTERM), "2500", "interrupted:", "signal",
                                   "SIGTERM"], done.stdout + done.stderr
