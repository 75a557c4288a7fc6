"""The Ray a run starts for itself: its watchdog, and a raylet lost mid-run named as such.

When this machine's raylet dies (``kill -9``, the OOM killer), Ray ends the
driver from C++ (``_exit(1)``) as soon as the driver next touches the object
store: no Python exception ever reaches bamnet, so there is nothing to turn
into an ``Error:`` line, and unwinding the run (``ray.shutdown()``, or
leaving Ray Data's iterator) is what touches the store. So
:func:`guard_local_ray` watches the raylet of a Ray that bamnet started, and
when it is gone hands a :class:`RayletLostError` to the caller's
``on_lost`` callback, from the watching thread; Ray ends the process some
seconds later, so the callback reports and exits (the CLI prints the one
``Error:`` line and exits 1). Without a callback Ray's own exit stands. The
shards written so far are whole (:mod:`.shards`), so ``--resume`` continues.

It also starts the watchdog (:mod:`.ray_reaper`) that stops the session's
processes once the driver is gone, however it went.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .ray_errors import RayUnavailableError
from .ray_processes import is_running, raylet_pid
from .ray_reaper import start_reaper

POLL_S = 0.5


class RayletLostError(RayUnavailableError):
    """This machine's raylet, which bamnet started for the run, exited mid-run."""


OnLost = Callable[[RayletLostError], None]


def raylet_lost(pid: int) -> RayletLostError:
    """The error for the run's own raylet (``pid``) gone mid-run."""
    return RayletLostError(
        f"Ray's raylet on this machine (pid {pid}) exited mid-run (killed, or out of memory); "
        "the Ray that bamnet started for this run is stopped",
        hint="the rows scored so far are kept in the shards; rerun the same command with "
             "--resume to score the rest")


def session_dir(ray: Any) -> Path | None:
    """The session folder of the Ray this driver is connected to (from its raylet socket)."""
    try:
        socket = ray.nodes()[0]["RayletSocketName"]
    except (KeyError, IndexError, TypeError, RuntimeError):  # an old Ray without the field,
        # a node table not yet filled, or no connection: no watchdog, never a wrong one
        return None
    return Path(socket).parent.parent


class _RayletWatch:
    """A daemon thread that calls ``on_lost`` once the raylet ``pid`` has exited."""

    def __init__(self, pid: int, on_lost: OnLost) -> None:
        self.pid = pid
        self.on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="bamnet-raylet-watch",
                                        daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            if not is_running(self.pid):
                self.on_lost(raylet_lost(self.pid))
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


@contextmanager
def guard_local_ray(ray: Any, on_lost: OnLost | None = None) -> Iterator[None]:
    """Watch the raylet of the Ray this process just started, start its watchdog, and stop it.

    Enter it right after ``ray.init`` started a local instance; on leaving it
    calls ``ray.shutdown()`` and lets the watchdog stop what is left.

    :param on_lost: called (from another thread) with a :class:`RayletLostError` when
        the raylet exits mid-run; it should report and end the process.
    """
    folder = session_dir(ray)
    pipe = start_reaper(folder) if folder is not None else None
    pid = raylet_pid(folder) if folder is not None and on_lost is not None else None
    watch = _RayletWatch(pid, on_lost) if pid is not None and on_lost is not None else None
    try:
        yield
    finally:
        if watch is not None:
            watch.stop()
        ray.shutdown()
        if pipe is not None:
            os.close(pipe)  # the watchdog stops what ray.shutdown() left, then exits
