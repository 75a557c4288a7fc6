"""Ray failures as one ``Error:`` line each: unreachable, authentication, lost mid-run.

Ray reports a cluster it cannot join as "Failed to connect" (the cause, such as
"InvalidAuthToken", only reaches its C++ log), and a raylet or node lost
mid-run as one of its ``RayError`` types. :func:`check_reachable` tells "nothing
listens there" from "it answers but refuses this driver" before ``ray.init``
retries for half a minute; :func:`join_error` and :func:`run_error` say which
failure it was and what to do.
"""

from __future__ import annotations

import os
import socket

from ..errors import BamnetError

TOKEN_HINT = ("if the cluster uses token authentication (the default since Ray 2.59), set "
              "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN to what `ray get-auth-token` prints on "
              "the head node")


class RayUnavailableError(BamnetError):
    """Ray is not installed, the cluster cannot be reached, or it failed mid-run."""


def host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a ``HOST:PORT`` address; None for ``auto``, ``ray://`` and the like."""
    if "://" in address or ":" not in address:
        return None
    host, _, port = address.rpartition(":")
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        return None


def check_reachable(address: str, timeout: float = 3.0) -> None:
    """Raise :class:`RayUnavailableError` at once when nothing listens at ``address``."""
    where = host_port(address)
    if where is None:
        return
    try:
        with socket.create_connection(where, timeout=timeout):
            return
    except OSError as exc:
        raise RayUnavailableError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc})",
            hint="start one with `ray start --head --port=PORT` and pass the address it "
                 "prints, or leave out --address to start a local Ray for this run") from None


def join_error(address: str | None, exc: BaseException) -> RayUnavailableError:
    """The error for a failed ``ray.init``: authentication, or why it could not start or join."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    if "auth" in text.lower() or "token" in text.lower() or type(exc).__name__ == \
            "AuthenticationError":
        return RayUnavailableError(f"Ray at {address or 'this machine'} refused this driver's "
                                   f"authentication: {text}", hint=TOKEN_HINT)
    if address is None:
        return RayUnavailableError(f"cannot start a local Ray instance: {text}",
                                   hint="check `ray status` and the disk space under /tmp/ray")
    mode = os.environ.get("RAY_AUTH_MODE", "")
    return RayUnavailableError(
        f"Ray at {address} answers but did not accept this driver: {text}",
        hint=TOKEN_HINT if mode.lower() != "token" else
        "the token may be wrong: compare RAY_AUTH_TOKEN with `ray get-auth-token` on the head "
        "node; and check the Ray versions match (`ray --version`)")


def run_error(exc: BaseException) -> RayUnavailableError:
    """The error for Ray failing mid-run (raylet, node or actor lost; cluster gone)."""
    text = (str(exc).strip().splitlines() or [""])[0][:300]
    return RayUnavailableError(
        f"Ray failed while scoring ({type(exc).__name__}: {text})",
        hint="the rows scored so far are kept in the shards; when the cluster is back "
             "(`ray status`), rerun the same command with --resume")


def is_ray_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is Ray's (a ``RayError``, or a lost connection to the cluster)."""
    try:
        from ray.exceptions import RayError
    except ImportError:
        return False
    return isinstance(exc, RayError | ConnectionError)
