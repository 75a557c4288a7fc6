"""One process owns an output: score files and run folders are locked, with real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bamnet_core._util.lock import OutputLock
from bamnet_core.errors import LockedError
from bamnet_core.runs import layout

HOLDER = textwrap.dedent("""
    import sys
    from bamnet_core._util.lock import OutputLock
    lock = OutputLock(sys.argv[1], "the output").acquire()
    print("held", flush=True)
    sys.stdin.read()  # hold until the test closes stdin or kills us
""")


def hold(path: Path) -> subprocess.Popen[str]:
    """Another process holding the lock at ``path`` until it is killed or its stdin closes."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def kill9(proc: subprocess.Popen[str]) -> None:
    """SIGKILL ``proc`` and reap it."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_second_process_is_refused_naming_the_holder(tmp_path):
    path = tmp_path / "scores.csv.lock"
    proc = hold(path)
    try:
        with pytest.raises(LockedError) as info:
            OutputLock(path, "output scores.csv").acquire()
        assert f"PID {proc.pid} on host {socket.gethostname()} since" in info.value.message
        assert "output scores.csv" in info.value.message
    finally:
        kill9(proc)


def test_a_lock_left_by_a_killed_process_is_taken_over_with_a_notice(tmp_path):
    path = tmp_path / "scores.csv.lock"
    proc = hold(path)
    kill9(proc)
    assert path.exists()  # kill -9 leaves the file behind
    with OutputLock(path, "output scores.csv") as lock:
        assert lock.took_over is not None
        assert f"PID {proc.pid}" in lock.took_over and "no longer running" in lock.took_over
        assert f"\"pid\": {os.getpid()}" in path.read_text()
    assert not path.exists()  # released: removed


def test_released_lock_is_free_and_no_notice_when_clean(tmp_path):
    path = tmp_path / "x.lock"
    with OutputLock(path, "x") as first:
        assert first.held and first.took_over is None
    with OutputLock(path, "x") as second:
        assert second.took_over is None


def test_a_symlink_or_folder_at_the_lock_path_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    link = tmp_path / "a.lock"
    link.symlink_to(target)
    with pytest.raises(LockedError, match="cannot create the lock file"):
        OutputLock(link, "a").acquire()
    assert target.read_text() == "keep"
    (tmp_path / "b.lock").mkdir()
    with pytest.raises(LockedError, match="cannot create the lock file"):
        OutputLock(tmp_path / "b.lock", "b").acquire()


def test_a_damaged_lock_file_is_taken_over(tmp_path):
    path = tmp_path / "c.lock"
    path.write_bytes(b"\xff\x00garbage")
    with OutputLock(path, "c") as lock:
        assert lock.took_over is not None and "PID ?" in lock.took_over


def test_bamnet_score_refuses_an_output_another_process_writes(tmp_path, cli):
    from onnx_fixtures import write_tiny_model

    model = write_tiny_model(tmp_path / "m.onnx")
    images = tmp_path / "imgs"
    images.mkdir()
    import cv2
    import numpy as np

    cv2.imwrite(str(images / "a.png"), np.full((16, 16), 128, np.uint8))
    out = tmp_path / "s.csv"
    proc = hold(tmp_path / "s.csv.lock")
    try:
        result = cli("score", str(model), str(images), "-o", str(out))
        assert result.exit_code == 1
        assert f"in use by another bamnet process (PID {proc.pid}" in result.stderr
        assert "--resume" in result.stderr
        assert not out.exists()
    finally:
        kill9(proc)
    result = cli("score", str(model), str(images), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "Notice: took over the lock" in result.stderr
    assert len(out.read_text().splitlines()) == 2  # header and one row, not two
    assert not (tmp_path / "s.csv.lock").exists()


def _model_and_images(tmp_path: Path, count: int) -> tuple[Path, Path]:
    """A tiny ONNX model and a folder of ``count`` small PNGs."""
    import cv2
    import numpy as np
    from onnx_fixtures import write_tiny_model

    model = write_tiny_model(tmp_path / "m.onnx")
    images = tmp_path / "imgs"
    images.mkdir()
    for i in range(count):
        cv2.imwrite(str(images / f"{i:03d}.png"), np.full((16, 16), i * 5, np.uint8))
    return model, images


def test_two_real_score_processes_never_both_write(tmp_path):
    """Two ``bamnet score`` processes started together: exactly one writes; no duplicate row."""
    model, images = _model_and_images(tmp_path, 40)
    out = tmp_path / "s.csv"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-c", "from bamnet_core.cli import main; main()", "score",
           str(model), str(images), "-o", str(out)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert sorted(code for code, _ in results) == [0, 1]
    refused = next(err for code, err in results if code == 1)
    # overlapping: refused by the lock; one after the other: the output already exists
    assert "in use by another bamnet process" in refused or "already exists" in refused
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == len(set(rows)) == 40


def _run_folder(tmp_path: Path, cli) -> Path:
    """A run folder with a valid config (resume checks the config before anything else)."""
    run = tmp_path / "run"
    run.mkdir()
    shown = cli("presets", "show", "quickstart", "--resolved")
    assert shown.exit_code == 0, shown.stderr
    (run / layout.CONFIG).write_text(shown.stdout)
    return run


def test_a_run_folder_being_resumed_is_locked(tmp_path, cli):
    run = _run_folder(tmp_path, cli)
    (run / layout.META).write_text('{"status": "failed"}')
    proc = hold(run / layout.LOCK)
    try:
        result = cli("resume", str(run))
        assert result.exit_code == 1
        assert f"run folder {run} is in use by another bamnet process (PID {proc.pid}" \
            in result.stderr
        assert f"bamnet resume {run}" in result.stderr
        alias = tmp_path / "alias"
        alias.symlink_to(run)  # the lock lives inside the folder: one lock whatever its name
        through = cli("resume", str(alias))
        assert through.exit_code == 1
        assert "is in use by another bamnet process" in through.stderr
    finally:
        kill9(proc)


@pytest.mark.parametrize("content", [b"\xff\xfe garbage", b"[]", b"{\"stages\": []}"])
def test_damaged_meta_json_is_named(tmp_path, cli, content):
    run = _run_folder(tmp_path, cli)
    (run / layout.META).write_bytes(content)
    result = cli("resume", str(run))
    assert result.exit_code == 1
    assert f"Error: {run / layout.META} is damaged" in result.stderr
    assert "unexpected" not in result.stderr


SCORE_HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from bamnet_core.score.output import output_lock
    lock = output_lock(Path(sys.argv[1])).acquire()
    print("held", flush=True)
    sys.stdin.read()
""")


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_the_same_output_through_a_link_is_refused(tmp_path, link):
    """A scorer writing ``s.csv`` holds it; ``bamnet score`` through a link to it is refused."""
    model, images = _model_and_images(tmp_path, 3)
    out = tmp_path / "s.csv"
    out.write_text("")
    other = tmp_path / "other"
    other.mkdir()
    alias = other / "alias.csv"
    if link == "symlink":
        alias.symlink_to(out)
    else:
        os.link(out, alias)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen([sys.executable, "-c", SCORE_HOLDER, str(out)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = subprocess.run(
            [sys.executable, "-c", "from bamnet_core.cli import main; main()", "score",
             str(model), str(images), "-o", str(alias), "--resume"],
            env=env, capture_output=True, text=True, timeout=120)
    finally:
        kill9(holder)
    assert result.returncode == 1, result.stderr
    assert "in use by another bamnet process" in result.stderr
    assert out.read_text() == ""
