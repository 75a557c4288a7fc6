"""The Storage SCP: who may send, what may be sent, and where it goes (pynetdicom).

Only the calling AE titles given (``--allow``) may associate; any other is rejected
at association (A-ASSOCIATE-RJ, "calling AE title not recognised"). With
``--allow-address``, a connection from any other address is closed before the
association starts. Only the image SOP classes a chest X-ray model can read are
offered (:data:`IMAGE_CLASSES`), in every transfer syntax: a Structured Report, a PDF
or a presentation state is refused at presentation-context negotiation. Each image is
bounded like any scored file (``max_bytes`` here, on arrival; the pixel bound when it
is decoded) and stored in the :class:`~.queue.DiskQueue` before "success" goes back.

Logs name UIDs and AE titles, never a patient's name or id; the dataset is never
decoded here (its encoded bytes go to disk as they came).
"""

from __future__ import annotations

import logging
import socketserver
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..score.uids import valid_uid
from .queue import DiskQueue

LOG = logging.getLogger("bamnet.listen")

#: projection radiographs and secondary captures (what chest X-ray exports are stored as)
IMAGE_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.1": "CR Image Storage",
    "1.2.840.10008.5.1.4.1.1.1.1": "Digital X-Ray Image Storage - For Presentation",
    "1.2.840.10008.5.1.4.1.1.1.1.1": "Digital X-Ray Image Storage - For Processing",
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.2": "Multi-frame Grayscale Byte Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.3": "Multi-frame Grayscale Word Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.4": "Multi-frame True Color Secondary Capture Image Storage",
}
SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700  # the queue is full, the file too large, or the disk refused it
NOT_THIS_CLASS = 0xA900  # dataset does not match the SOP class (or carries no valid UID)


@dataclass(frozen=True)
class ScpSettings:
    """How the Storage SCP listens.

    :param ae_title: this node's AE title.
    :param host: the address to listen on (``0.0.0.0``: every interface).
    :param port: the TCP port (0: a free one, logged).
    :param allowed_aets: calling AE titles that may associate.
    :param allowed_addresses: peer IP addresses that may connect (empty: any).
    :param max_bytes: an image larger than this is refused on arrival.
    :param ssl_context: a server-side TLS context, or None for plain TCP.
    """

    ae_title: str
    host: str
    port: int
    allowed_aets: tuple[str, ...]
    allowed_addresses: tuple[str, ...] = ()
    max_bytes: int = 256 * 1024 * 1024
    ssl_context: ssl.SSLContext | None = None


def _server_class(allowed: Sequence[str]) -> type:
    from pynetdicom.transport import ThreadedAssociationServer

    class AddressCheckedServer(ThreadedAssociationServer):  # type: ignore[misc]
        """Closes connections from addresses not allowed, before any association."""

        def verify_request(self, request: Any, client_address: Any) -> bool:
            if not allowed or client_address[0] in allowed:
                return True
            LOG.warning("refused a connection from %s: address not allowed", client_address[0])
            return False

        def shutdown(self) -> None:
            socketserver.BaseServer.shutdown(self)
            self.server_close()

    return AddressCheckedServer


class StorageScp:
    """A running Storage SCP that queues what it receives.

    :param settings: where and whom to listen to.
    :param queue: where received images go.
    :param already_scored: tells whether an image with this SOP Instance UID has a row;
        one sent again is acknowledged and not queued (one image, one row).
    """

    def __init__(self, settings: ScpSettings, queue: DiskQueue,
                 already_scored: Callable[[str], bool]) -> None:
        self.settings, self.queue, self.already_scored = settings, queue, already_scored
        self._ae: Any = None
        self._server: Any = None

    def start(self) -> tuple[str, int]:
        """Listen (in background threads); return the address actually bound."""
        import threading

        from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt

        ae = AE(ae_title=self.settings.ae_title)
        ae.require_calling_aet = list(self.settings.allowed_aets)
        for uid in IMAGE_CLASSES:
            ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_REJECTED, self._on_rejected),
                    (evt.EVT_C_ECHO, lambda event: SUCCESS)]
        self._ae = ae
        self._server = ae.make_server(
            (self.settings.host, self.settings.port), ssl_context=self.settings.ssl_context,
            evt_handlers=handlers, server_class=_server_class(self.settings.allowed_addresses))
        threading.Thread(target=self._server.serve_forever, name="bamnet-scp",
                         daemon=True).start()
        host, port = self._server.server_address[:2]
        LOG.info("listening as %s on %s:%d%s", self.settings.ae_title, host, port,
                 " (TLS)" if self.settings.ssl_context else "")
        return host, port

    def stop(self) -> None:
        """Stop accepting associations and abort those in progress (their senders were not
        told "success" for what they had not finished, so they send it again)."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._ae is not None:
            for assoc in list(self._ae.active_associations):
                assoc.abort()
            self._ae = None

    def _on_rejected(self, event: Any) -> None:
        LOG.warning("rejected an association from AE title %r at %s: not an allowed "
                    "sender (--allow)", event.assoc.requestor.ae_title,
                    event.assoc.requestor.address)

    def _on_store(self, event: Any) -> int:
        request = event.request
        sop_class = str(request.AffectedSOPClassUID)
        sop = valid_uid(str(request.AffectedSOPInstanceUID or ""))
        sender = event.assoc.requestor.ae_title
        if sop_class not in IMAGE_CLASSES or sop is None:
            LOG.warning("refused an instance from %s: %s", sender,
                        "no valid SOP Instance UID" if sop is None
                        else f"SOP class {sop_class} is not an image class")
            return NOT_THIS_CLASS
        if self.already_scored(sop):
            LOG.info("received %s from %s again: already scored, not queued", sop, sender)
            return SUCCESS
        data = event.encoded_dataset(include_meta=True)
        if len(data) > self.settings.max_bytes:
            LOG.warning("refused %s from %s: %d bytes, over the %d-byte bound", sop, sender,
                        len(data), self.settings.max_bytes)
            return OUT_OF_RESOURCES
        try:
            queued = self.queue.put(sop, data)
        except OSError as exc:
            LOG.error("could not queue %s: %s", sop, exc.strerror or exc)
            return OUT_OF_RESOURCES
        if not queued:
            LOG.warning("refused %s from %s: the queue is full (%d images)", sop, sender,
                        self.queue.max_files)
            return OUT_OF_RESOURCES
        LOG.debug("queued %s from %s", sop, sender)
        return SUCCESS
