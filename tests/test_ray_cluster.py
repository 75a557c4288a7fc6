"""The documented recipe, for real: ``ray start --head``, then ``bamnet score --address``.

The test starts its own head node (token authentication on, as Ray >= 2.59
does by default) in its own short temp dir and HOME, runs ``bamnet score`` as a
separate driver process, and stops exactly the processes of that head node
(found by their temp dir, as bamnet's watchdog finds a session's), never any
other Ray on the machine.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_fixtures import write_tiny_model

from bamnet_core.score.ray_processes import session_processes

pytest.importorskip("ray")
RAY = Path(sys.executable).with_name("ray")
BAMNET = [sys.executable, "-c", "from bamnet_core.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_head(temp_dir: str) -> None:
    """SIGTERM, then SIGKILL, each process of this head node (by PID)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in session_processes(temp_dir):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while session_processes(temp_dir) and time.monotonic() < deadline:
            time.sleep(0.2)


@pytest.fixture(scope="module")
def head_node():
    """A real ``ray start --head`` with token authentication; yields (address, env)."""
    temp_dir = tempfile.mkdtemp(prefix="bnr", dir="/tmp")  # short: Unix socket paths
    home = Path(temp_dir) / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(HOME=str(home), PYTHONPATH=os.pathsep.join(sys.path))
    port = free_port()
    # what Ray's docs say to do first; with a token present, `ray start --head` turns
    # token authentication on by itself (Ray >= 2.59)
    subprocess.run([str(RAY), "get-auth-token", "--generate"], env=env, capture_output=True,
                   check=True, timeout=120)
    started = subprocess.run(
        [str(RAY), "start", "--head", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
        env=env, capture_output=True, text=True, timeout=180)
    try:
        assert started.returncode == 0, started.stderr[-2000:]
        assert (home / ".ray" / "auth_token").is_file()  # token authentication is on
        yield f"127.0.0.1:{port}", env
    finally:
        stop_head(temp_dir)


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, Path]:
    images = tmp_path / "imgs"
    images.mkdir()
    for i in range(12):
        cv2.imwrite(str(images / f"{i}.png"), np.random.default_rng(i).integers(
            0, 255, (8, 8), dtype=np.uint8))
    return write_tiny_model(tmp_path / "m.onnx"), images


def score(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BAMNET, "score", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_documented_recipe_works_with_token_authentication(head_node, folder, tmp_path):
    address, env = head_node
    model, images = folder
    out = tmp_path / "s.csv"
    done = score(env, str(model), str(images), "-o", str(out), "--engine", "ray",
                 "--address", address)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "using its token authentication" in done.stderr
    assert "InvalidAuthToken" not in done.stderr
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len({r["path"] for r in rows}) == 12


def test_a_wrong_token_is_one_error_line_naming_authentication(head_node, folder, tmp_path):
    address, env = head_node
    model, images = folder
    wrong = {**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "0" * 32}
    done = score(wrong, str(model), str(images), "-o", str(tmp_path / "s.csv"), "--engine",
                 "ray", "--address", address)
    assert done.returncode == 1
    errors = [x for x in done.stderr.splitlines() if x.startswith("Error:")]
    assert len(errors) == 1 and f"Ray at {address}" in errors[0]
    assert "ray get-auth-token" in done.stderr
    assert "unexpected" not in done.stderr


def test_an_address_where_nothing_listens_fails_at_once(folder, tmp_path):
    model, images = folder
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = score(env, str(model), str(images), "-o", str(tmp_path / "s.csv"), "--engine", "ray",
                 "--address", f"127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "Error: no Ray cluster answers at 127.0.0.1:" in done.stderr
    assert not (tmp_path / "s.csv").exists()
