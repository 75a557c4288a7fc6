"""The Ray that ``bamnet score --engine ray`` starts for itself, attacked for real.

Each test runs ``bamnet score`` as a separate driver process on generated
images and a tiny ONNX model, lets it write 3 shards and park there (Ray is up
and scoring, and the run cannot finish first), then kills something with
SIGKILL or stops it with Ctrl-C: this run's raylet (found by its
session folder, which names the driver's PID), or the driver itself. A
process is this run's only by its session folder (on its command line or in
its open files) or by descent from one that is: never by name, so another Ray
on the machine is never touched or counted.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from bamnet_testing import parked_bamnet, wait_parked
from onnx_fixtures import write_tiny_model

from bamnet_core.score.ray_processes import raylet_pid, session_processes

pytest.importorskip("ray")
BAMNET = [sys.executable, "-c", "from bamnet_core.cli import main; main()"]
IMAGES = 800


@pytest.fixture
def job(tmp_path: Path) -> Iterator[dict[str, Path]]:
    images = tmp_path / "imgs"
    images.mkdir()
    for i in range(IMAGES):
        cv2.imwrite(str(images / f"{i:04d}.png"), np.random.default_rng(i).integers(
            0, 255, (8, 8), dtype=np.uint8))
    # Ray's folder for this test's sessions: its own, and short (Ray's socket paths must
    # fit in 107 bytes, which pytest's tmp_path may not)
    with tempfile.TemporaryDirectory(prefix="bamnet-ray-") as ray_tmp:
        yield {"model": write_tiny_model(tmp_path / "m.onnx"), "images": images,
               "out": tmp_path / "s.csv", "ray_tmp": Path(ray_tmp)}


def command(job: dict[str, Path], *extra: str) -> list[str]:
    return [*BAMNET, "score", str(job["model"]), str(job["images"]), "-o", str(job["out"]),
            "--engine", "ray", "--batch-size", "4", *extra]


def environment(job: dict[str, Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "BAMNET_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    env["RAY_TMPDIR"] = str(job["ray_tmp"])  # Ray puts its sessions in RAY_TMPDIR/ray
    return env


def start_scoring(job: dict[str, Path]) -> tuple[subprocess.Popen[str], Path]:
    """Start the driver; return it and its session folder once it has written 3 shards.

    The driver parks there (it cannot finish, however fast the machine), so the test
    attacks a run that is certainly in progress.
    """
    marker = job["out"].with_name("parked")
    driver = subprocess.Popen(
        parked_bamnet("bamnet_core.score.ray_engine:write_shard", 3, marker,
                      *command(job)[len(BAMNET):]),
        env=environment(job), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_parked(driver, marker)
    sessions = list((job["ray_tmp"] / "ray").glob(f"session_*_{driver.pid}"))
    assert len(sessions) == 1, sessions
    return driver, sessions[0]


def wait_until_gone(session: Path, seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while (left := session_processes(session)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def rows(out: Path) -> list[dict[str, str]]:
    with open(out, newline="") as fh:
        return list(csv.DictReader(fh))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def test_a_killed_raylet_is_one_error_line_and_resume_gives_every_row_once(job):
    driver, session = start_scoring(job)
    raylet = raylet_pid(session)
    assert raylet is not None
    os.kill(raylet, signal.SIGKILL)
    stdout, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 1
    errors = error_lines(stderr)
    assert len(errors) == 1, stderr[-3000:]
    assert f"raylet on this machine (pid {raylet}) exited mid-run" in errors[0]
    assert "--resume" in stderr and "kept in the shards" in stderr
    # nothing of Ray's own logging reaches the user
    assert "core_worker" not in stderr and "Raylet is terminated" not in stderr + stdout
    assert not wait_until_gone(session, 30)

    resumed = subprocess.run(command(job, "--resume"), env=environment(job),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert not error_lines(resumed.stderr)
    got = rows(job["out"])
    paths = [row["path"] for row in got]
    assert len(paths) == len(set(paths)) == IMAGES  # none twice, none lost
    assert all(row["error"] == "" for row in got)


def test_kill_9_of_the_driver_leaves_no_ray_process_30_s_later(job):
    driver, session = start_scoring(job)
    before = session_processes(session, exclude=frozenset({driver.pid}))
    assert len(before) >= 3, before  # gcs_server, raylet, agents, workers
    driver.kill()
    driver.wait()
    left = wait_until_gone(session, 30)
    assert not left, {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in left}


def test_ctrl_c_stops_the_ray_bamnet_started_and_says_how_to_continue(job):
    driver, session = start_scoring(job)
    driver.send_signal(signal.SIGINT)
    _, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 130, stderr[-3000:]
    assert "Interrupted:" in stderr and "--resume" in stderr
    assert not wait_until_gone(session, 30)
