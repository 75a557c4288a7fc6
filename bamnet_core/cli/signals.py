"""SIGTERM ends a command the way Ctrl-C (SIGINT) does: cleanly, saying how to continue.

Python turns SIGINT into ``KeyboardInterrupt``, which every command already
handles: a run records ``interrupted`` in ``meta.json``, scoring keeps its
fsynced rows. SIGTERM (``kill``, a batch scheduler's time limit, ``docker
stop``) would kill the process at once instead. The CLI, which owns its
process, routes SIGTERM to the same path; the library never touches signals.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

_OWNER: list[int] = []  # the pid of the process whose CLI installed the handler


def _raise_interrupt(signum: int, frame: Any) -> None:
    if os.getpid() not in _OWNER:
        # a forked child (a multiprocessing pool worker, say) inherited the handler: it must
        # die of SIGTERM as it would have, or its parent's pool.terminate() waits forever
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def terminate_like_interrupt() -> Any:
    """Make SIGTERM raise ``KeyboardInterrupt`` in the main thread; return the old handler.

    Only in this process: a child forked later (cleanlab's and scikit-learn's
    multiprocessing pools fork) still dies of SIGTERM, as its parent expects.
    """
    if threading.current_thread() is not threading.main_thread():
        return None  # handlers can only be set from the main thread
    _OWNER[:] = [os.getpid()]
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def restore_terminate(previous: Any) -> None:
    """Put back the SIGTERM handler :func:`terminate_like_interrupt` replaced."""
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)
