"""Send Structured Reports back by C-STORE (``--send-sr DEST_AET@HOST:PORT``).

One association per call carries every SR waiting; an SR the destination did not
accept (or could not be reached for) stays waiting and is sent with the next batch.
"""

from __future__ import annotations

import logging
import re
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

LOG = logging.getLogger("bamnet.listen")
_DEST = re.compile(r"(?P<aet>[^@]{1,16})@(?P<host>\[[^\]]+\]|[^:@]+):(?P<port>\d{1,5})")
COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"


@dataclass(frozen=True)
class Destination:
    """Where SRs go: an AE title, a host and a port."""

    ae_title: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Destination:
        """``AET@HOST:PORT`` (an IPv6 host in brackets); :class:`ConfigError` if it is not."""
        found = _DEST.fullmatch(text.strip())
        if found is None or not 0 < int(found["port"]) < 65536 or \
                not found["aet"].strip() or not found["aet"].isprintable():
            raise ConfigError(f"--send-sr {text!r} is not DEST_AET@HOST:PORT",
                              hint="for example --send-sr PACS@10.0.0.5:104")
        return cls(found["aet"].strip(), found["host"].strip("[]"), int(found["port"]))

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"


def store(assoc: Any, dataset: Any) -> int | None:
    """C-STORE ``dataset`` on an established association; the status, or None when no
    response came.

    pynetdicom pauses its reactor thread while a request waits for its response and
    releases it afterwards. If the next request starts before that thread has woken, the
    thread can take the next response off the queue (logged as "unexpected C-STORE service
    message") and the request waits until its DIMSE timeout; on a loaded machine that
    happens every few hundred images. So this waits, at most 50 ms, for the reactor to have
    woken before returning.
    """
    answer = assoc.send_c_store(dataset)
    deadline = time.monotonic() + 0.05
    while getattr(assoc, "_is_paused", False) and assoc.is_established and \
            time.monotonic() < deadline:
        time.sleep(0.0001)
    return getattr(answer, "Status", None) if answer else None


def send_srs(destination: Destination, files: Sequence[Path], *, calling_aet: str,
             tls: ssl.SSLContext | None = None, timeout: float = 10.0) -> list[Path]:
    """C-STORE ``files`` (SRs) to ``destination`` over one association; the files it
    accepted. Never raises for the network: what was not sent is simply not returned."""
    from pydicom import dcmread
    from pynetdicom import AE

    ae = AE(ae_title=calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    ae.add_requested_context(COMPREHENSIVE_3D_SR, ["1.2.840.10008.1.2.1"])
    assoc = ae.associate(destination.host, destination.port, ae_title=destination.ae_title,
                         tls_args=(tls, destination.host) if tls else None)
    if not assoc.is_established:
        LOG.warning("could not reach %s to send %d SRs; they wait for the next try",
                    destination, len(files))
        return []
    sent = []
    try:
        for path in files:
            try:
                code = store(assoc, dcmread(path))
            except (OSError, ValueError, RuntimeError) as exc:
                LOG.warning("could not send SR %s: %s", path.stem, exc)
                break
            if code == 0x0000:
                sent.append(path)
                LOG.info("sent SR %s to %s", path.stem, destination)
            else:
                LOG.warning("%s did not accept SR %s (status %s)", destination, path.stem,
                            f"0x{code:04X}" if code is not None else "none")
            if not assoc.is_established:
                break
    finally:
        if assoc.is_established:
            assoc.release()
    return sent
