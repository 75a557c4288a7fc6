"""Run a child process that reports in JSON lines on stdout, as the export's children do.

Each line is an object: ``{"progress": {...}}`` (a :class:`ProgressEvent`'s
fields, passed on at once) or a final message (its result, or its error).
stderr goes to a temporary file, so a child that dies says why in its last line.
A child calls :func:`die_with_parent` first, so a parent killed with SIGKILL (which
runs no cleanup) leaves no child working on: on Linux the kernel ends it too.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

from .._util.progress import ProgressCallback, ProgressEvent


@dataclass
class ChildOutcome:
    """How a child ended: its final message (None if it sent none), exit code, last stderr line."""

    final: dict[str, Any] | None
    returncode: int
    last_error_line: str


def run_reporting_child(command: list[str], progress: ProgressCallback, *,
                        env: dict[str, str] | None = None) -> ChildOutcome:
    """Run ``command``, pass its progress on, and return its last non-progress message.

    The child is killed if this process is interrupted while it runs.
    """
    final: dict[str, Any] | None = None
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log, \
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True,
                             env=env) as child:
        assert child.stdout is not None
        try:
            for line in child.stdout:
                message = _parse(line)
                if "progress" in message:
                    progress(ProgressEvent(**message["progress"]))
                elif message:
                    final = message
        except BaseException:
            child.kill()  # interrupted: the child must not outlive its parent's work
            raise
        child.wait()
        log.seek(0)
        stderr = log.read()
    last = (stderr.strip().splitlines() or ["(no output)"])[-1]
    return ChildOutcome(final, child.returncode, last)


def _parse(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when ``parent`` (its parent's pid) dies (Linux
    ``PR_SET_PDEATHSIG``), so an export killed with SIGKILL leaves no child running;
    elsewhere, nothing. Call it first thing in a child."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
