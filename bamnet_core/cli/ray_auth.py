"""Ray token authentication for ``--engine ray --address``: what only the CLI may set.

Since Ray 2.59 a cluster started with ``ray start --head`` requires a token
(``~/.ray/auth_token``). Ray's driver sends it when it finds a local cluster by
itself (``ray.init()``), but never for an explicit address, so the documented
``--address HEAD:6379`` fails with "InvalidAuthToken". For an address on this
machine, where the token file is the cluster's own, the CLI turns token mode
on (``RAY_AUTH_MODE=token``, for this process and the Ray processes it
starts), exactly as Ray does for a local cluster it finds. A remote address
gets nothing it did not ask for: the token is a credential, so the user sets
``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN`` (docs/scoring-at-scale.md).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

AUTH_MODE = "RAY_AUTH_MODE"


def token_available() -> bool:
    """Whether Ray would find a token (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH``, default)."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or str(Path.home() / ".ray" / "auth_token")
    try:
        return Path(path).is_file() and Path(path).stat().st_size > 0
    except OSError:
        return False


def is_this_machine(host: str) -> bool:
    """True when ``host`` is an address of this machine (it can be bound here)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    for family, _, _, _, sockaddr in infos:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.bind((sockaddr[0], 0))
        except OSError:
            return False
    return bool(infos)


def use_local_token(address: str | None) -> str | None:
    """Turn Ray token mode on for a cluster on this machine; a notice saying so, or None."""
    if not address or address == "auto" or "://" in address or AUTH_MODE in os.environ:
        return None
    host = address.rsplit(":", 1)[0].strip("[]")
    if not is_this_machine(host) or not token_available():
        return None
    os.environ[AUTH_MODE] = "token"
    return (f"Ray at {address} is on this machine: using its token authentication "
            f"({AUTH_MODE}=token)")
