"""The processes of one local Ray session, found through ``/proc`` (Linux).

A Ray that bamnet starts for a run has its own session folder
(``/tmp/ray/session_<time>_<driver pid>``). Every process of that session
names the folder on its command line (``gcs_server``, ``raylet``, the
monitors) or holds one of its log files open (the agents and workers, which
rename themselves ``ray::DashboardAgent``, ``ray::IDLE`` ...); and they
descend from the driver or the raylet. So a process is counted as the
session's only by one of those marks: never by its name, which a user's own
``ray start --head`` cluster shares. Elsewhere than Linux nothing is found.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


def _holds_file_in(pid: int, folder: str) -> bool:
    try:
        fds = list((PROC / str(pid) / "fd").iterdir())
    except OSError:  # gone, or not ours to inspect
        return False
    for fd in fds:
        try:
            if os.readlink(fd).startswith(folder):
                return True
        except OSError:
            continue
    return False


def _parents() -> dict[int, int]:
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def is_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (a killed child not yet reaped)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def session_processes(session_dir: str | Path, *, exclude: frozenset[int] = frozenset()
                      ) -> set[int]:
    """PIDs of the processes of the Ray session in ``session_dir``, and their descendants.

    :param exclude: PIDs never returned (the driver, the caller); their children are
        not counted for being theirs.
    """
    if not PROC.is_dir():
        return set()
    folder = str(Path(session_dir)) + os.sep
    me = os.getpid()
    tree = _parents()
    pids = {pid for pid in tree if pid not in exclude and pid != me
            and (folder in _cmdline(pid) or _holds_file_in(pid, folder))}
    grew = True
    while grew:
        children = {pid for pid, parent in tree.items() if parent in pids} - pids - exclude
        children.discard(me)
        grew = bool(children)
        pids |= children
    return {pid for pid in pids if is_running(pid)}


def raylet_pid(session_dir: str | Path) -> int | None:
    """The PID of the session's raylet (its command line names the session's socket)."""
    socket = f"--raylet_socket_name={Path(session_dir) / 'sockets' / 'raylet'}"
    for pid in session_processes(session_dir):
        line = _cmdline(pid)
        if socket in line and "raylet" in line.split(" ", 1)[0]:
            return pid
    return None
