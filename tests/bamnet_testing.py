"""Helpers shared by the test modules: run the CLI in-process; a tiny config.

(A module of its own, because nested conftest files cannot import each other.)
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CLIResult:
    """What one CLI invocation produced."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CLIResult:
    """Run ``bamnet ARGS`` in-process through ``main`` (errors handled as for users)."""
    from bamnet_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CLIResult(code, out.getvalue(), err.getvalue())


TINY_CONFIG = """\
[run]
name = "tiny"
seed = 3

[data]
source = "synthetic-cxr"
classes = ["normal", "covid"]
positive = "covid"
patients_per_class = 12
max_images_per_patient = 2
size = 48

[preprocess]
size = 32
channels = 1

[split]
val = 0.3

[backbone]
name = "small-cnn"
filters = [4, 8]
dense = 8

[evaluate]
bootstrap = 100

[export]
onnx = false  # export has tests of its own; a run that exports is tested once

[train]
epochs = 2
batch_size = 8
"""


def python() -> str:
    """The interpreter running the tests (for subprocess tests)."""
    return sys.executable


def kill_when(proc: subprocess.Popen, folder: Path, pattern: str,
              ready: Callable[[dict], bool], timeout: float = 300) -> Path:
    """SIGKILL ``proc`` once a JSON file matching ``folder/pattern`` satisfies ``ready``.

    :returns: that file.
    :raises AssertionError: if none did before ``proc`` ended or ``timeout`` passed.
    """
    found_file = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(folder.glob(pattern))
            if found and ready(json.loads(found[0].read_text())):
                found_file = found[0]
                break
            time.sleep(0.02)
        assert found_file is not None, f"no {pattern} appeared"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    return found_file
