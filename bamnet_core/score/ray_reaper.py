"""A watchdog that stops the local Ray bamnet started once its driver is gone, however it went.

Ray ties the head processes it starts (``gcs_server``, ``raylet``) to the
driver (``PR_SET_PDEATHSIG``), but not the raylet's agents
(``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``): after ``kill -9`` of the
driver they run on. So beside a Ray of its own the driver starts this small
process (:func:`start_reaper`), in its own session so that Ctrl-C in the
terminal does not reach it, holding the read end of a pipe whose only write end
the driver keeps. The pipe reaches end-of-file when the driver closes it (a
normal end, after ``ray.shutdown()``) or dies (any signal, ``kill -9`` included).
The watchdog then sends SIGTERM, and after a grace period SIGKILL, to every
process of that one session (:func:`.ray_processes.session_processes`), and
exits. It never prints and never touches a Ray it was not started for: a
cluster joined with ``--address`` gets no watchdog.

Its command line is ``python -c ... SESSION_DIR DRIVER_PID``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .ray_processes import session_processes

GRACE_S = 5.0
ROOT = Path(__file__).resolve().parents[2]  # the folder holding bamnet_core
_RUN = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
        "from bamnet_core.score.ray_reaper import main; main(sys.argv[1:])")


def stop_session(session_dir: str | Path, driver: int, grace: float = GRACE_S) -> None:
    """SIGTERM, then after ``grace`` seconds SIGKILL, each process of the session."""
    exclude = frozenset({driver})
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        for pid in session_processes(session_dir, exclude=exclude):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + wait
        while session_processes(session_dir, exclude=exclude) and time.monotonic() < deadline:
            time.sleep(0.2)


def start_reaper(session_dir: str | Path) -> int:
    """Start the watchdog for the Ray session in ``session_dir``; return the pipe's write end.

    Close the returned file descriptor after ``ray.shutdown()``; the watchdog then
    stops what is left of the session and exits. If this process dies first, the
    kernel closes it.
    """
    read, write = os.pipe()  # both ends close-on-exec: no Ray process inherits them
    try:
        subprocess.Popen(
            [sys.executable, "-c", _RUN, str(ROOT), str(session_dir), str(os.getpid())],
            stdin=read, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd="/")
    except BaseException:
        os.close(write)
        raise
    finally:
        os.close(read)
    return write


def main(argv: list[str]) -> None:
    """Wait for end-of-file on stdin, then stop the session named in ``argv``."""
    session_dir, driver = argv[0], int(argv[1])
    while True:
        try:
            if not os.read(0, 1024):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    stop_session(session_dir, driver)
