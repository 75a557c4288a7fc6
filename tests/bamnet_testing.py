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


def tiny_config_on(manifest: Path, *, source: str = "manifest-csv") -> str:
    """:data:`TINY_CONFIG` reading ``manifest`` (a ``path`` key) through ``source``
    instead of drawing synthetic patients."""
    return (TINY_CONFIG.replace('source = "synthetic-cxr"', f'source = "{source}"')
            .replace("patients_per_class = 12\nmax_images_per_patient = 2\nsize = 48\n",
                     f"path = {json.dumps(str(manifest))}\n"))



def python() -> str:
    """The interpreter running the tests (for subprocess tests)."""
    return sys.executable


PARKED_CHILD = r"""
import importlib, os, sys, threading
target, after, marker, *argv = sys.argv[1:]
module_name, _, attribute = target.partition(":")
owner_name, _, name = attribute.rpartition(".")
owner = importlib.import_module(module_name)
for part in filter(None, owner_name.split(".")):
    owner = getattr(owner, part)
real, calls = getattr(owner, name), []

def parked(*args, **kwargs):
    result = real(*args, **kwargs)
    calls.append(1)
    if len(calls) == int(after):
        with open(marker + ".tmp", "w") as fh:
            fh.write(str(os.getpid()))
        os.replace(marker + ".tmp", marker)
        threading.Event().wait()  # parked: only a signal ends this process now
    return result

setattr(owner, name, parked)
sys.argv = ["bamnet", *argv]
from bamnet_core.cli import main
main()
"""


def parked_bamnet(target: str, after: int, marker: Path, *argv: str) -> list[str]:
    """The command line of ``bamnet ARGV`` in a child that parks mid-run, at a known point.

    After the ``after``-th call of ``target`` (``"module:function"`` or
    ``"module:Class.method"``, looked up where the caller looks it up) returns, the child
    creates ``marker`` and waits forever, so a test that kills it (:func:`kill_parked`)
    kills a run that is certainly unfinished, however fast the machine.
    """
    return [sys.executable, "-c", PARKED_CHILD, target, str(after), str(marker), *argv]


def wait_parked(proc: subprocess.Popen, marker: Path, timeout: float = 600) -> None:
    """Return once ``proc`` has parked (``marker`` exists); ``timeout`` only guards a hang.

    :raises AssertionError: if ``proc`` ended, or never parked, instead.
    """
    deadline = time.monotonic() + timeout
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), f"the child never reached its parking point (exit {proc.poll()})"


def kill_parked(proc: subprocess.Popen, marker: Path, timeout: float = 600) -> None:
    """SIGKILL ``proc`` once it has parked (:func:`wait_parked`), and reap it."""
    try:
        wait_parked(proc, marker, timeout)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.returncode
