"""``bamnet listen``: score what the Storage SCP receives, in batches, with ``bamnet score``'s
engine, rows and SRs; send each SR back when a destination is given.

The loop: images wait in the :class:`~.queue.DiskQueue`; a batch is scored when
``batch_size`` images wait or the oldest has waited ``batch_wait`` seconds
(:meth:`.score.scorer.Scorer.score_stream`, the same decode, bounds and decision rule
as ``bamnet score``); its SRs are written (:class:`~bamnet_core.score.sr_output.SrWriter`),
then its rows (:class:`~bamnet_core.score.output.RecordWriter`, fsynced, the output
always resumable), then its images leave the queue, then the SRs waiting are sent. When
``stop`` is set (SIGTERM) the batch in hand is finished and the loop returns; images
still queued are scored first at the next start, before the SCP listens again.

A row's ``path`` is where its image waited (``QUEUE/queued/<SOPInstanceUID>.dcm``,
removed once scored); its ``sop_instance_uid`` and ``study_instance_uid`` join it to
the PACS.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import BamnetError
from ..imaging.limits import DEFAULT_MAX_PIXELS
from ..score.output import (
    RecordWriter,
    ScoreSummary,
    close_quietly,
    format_for,
    make_parent,
    notify_takeover,
    output_lock,
    prepare_output,
)
from ..score.resume import ENCODING, ERRORS, DecisionRule
from ..score.scorer import Scorer
from ..score.sr_output import SrWriter, algorithm_facts
from .queue import DiskQueue
from .scp import ScpSettings, StorageScp
from .sender import Destination, send_srs

LOG = logging.getLogger("bamnet.listen")


@dataclass(frozen=True)
class ListenOptions:
    """How ``bamnet listen`` receives, scores, writes and sends.

    :param output: the CSV or JSON Lines file of rows (resumed when it exists).
    :param scp: the Storage SCP's settings (AE title, address, allowed senders, TLS).
    :param queue: the queue folder (received images, SRs waiting to be sent).
    :param sr: the folder the SRs are written to.
    :param send_sr: where each SR is sent by C-STORE, or None.
    :param send_tls: a client-side TLS context for sending, or None.
    :param max_queue: how many received images may wait at once.
    :param batch_size: images per scoring batch.
    :param batch_wait: seconds the first image of a batch waits for others.
    :param workers: decoding threads (default: the usable cores).
    :param max_pixels: decoded images larger than this are error rows.
    """

    output: Path
    scp: ScpSettings
    queue: Path
    sr: Path
    send_sr: Destination | None = None
    send_tls: ssl.SSLContext | None = None
    max_queue: int = 1000
    batch_size: int = 32
    batch_wait: float = 1.0
    workers: int | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS


class ListenError(BamnetError):
    """The listener cannot start (the port is taken, the address is not this machine's)."""


class _Loop:
    """One listening session's state: the queue, the writers and what has rows."""

    def __init__(self, scorer: Scorer, options: ListenOptions, writer: RecordWriter,
                 done: set[str], summary: ScoreSummary) -> None:
        self.scorer, self.options, self.writer, self.summary = scorer, options, writer, summary
        try:  # resolve() raises RuntimeError for a looping link before Python 3.13
            self.queue = DiskQueue(options.queue.resolve(), options.max_queue)
        except (OSError, RuntimeError) as exc:
            why = "a symbolic link loop" if isinstance(exc, RuntimeError) else \
                (exc.strerror or str(exc))
            raise ListenError(f"cannot keep the queue in {options.queue}: {why}",
                              hint="give --queue a folder this user can write") from None
        self.srs = SrWriter(options.sr, algorithm_facts(scorer))
        for stale in options.sr.glob(".*.tmp.dcm"):  # an SR a kill interrupted mid-write
            stale.unlink(missing_ok=True)
        self.done_uids = {Path(p).stem for p in done}
        for path in self.queue.pending():  # rows written, then killed before it left
            if str(path) in done:
                self.queue.remove(path)
        # SRs go out from a thread of their own, so the network overlaps the next batch
        self._wake, self._closing = threading.Event(), False
        self._sender = threading.Thread(target=self._send_loop, name="bamnet-send-sr",
                                        daemon=True)
        self._sender.start()

    def _send_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.send()
            if self._closing:
                return

    def close(self) -> None:
        """Send what waits one last time (what cannot go waits for the next start)."""
        self._closing = True
        self._wake.set()
        self._sender.join()

    def send_soon(self) -> None:
        """Wake the sending thread (it sends every SR waiting)."""
        self._wake.set()

    def next_batch(self, stop: threading.Event) -> list[Path]:
        """Wait for a full batch, or for the oldest image to have waited ``batch_wait``."""
        first = None
        while not stop.is_set():
            pending = self.queue.pending()
            if len(pending) >= self.options.batch_size:
                return pending[:self.options.batch_size]
            if pending:
                first = first or time.monotonic()
                if time.monotonic() - first >= self.options.batch_wait:
                    return pending
            self.queue.arrived.clear()
            self.queue.arrived.wait(0.05 if pending else 0.5)
        return []

    def score(self, batch: list[Path]) -> None:
        """Score one batch: SRs, then rows, then the images leave the queue, then send."""
        options = self.options
        records = [r for group in self.scorer.score_stream(
            [str(p) for p in batch], batch_size=len(batch), workers=options.workers,
            max_pixels=options.max_pixels, max_bytes=options.scp.max_bytes, uids=True)
            for r in group]
        written = self.srs.write(records)
        for path, why in self.srs.skipped:
            self.summary.note(path, why)
            LOG.warning("%s: %s", Path(path).stem, why)
        self.srs.skipped.clear()
        if options.send_sr is not None:
            for item in written:
                self.queue.mark_unsent(item.sr_uid)
        self.writer.write(records)
        self.summary.count(records)
        self.summary.structured_reports += len(written)
        for path in batch:
            self.done_uids.add(path.stem)
            self.queue.remove(path)
        failed = [r for r in records if r.error is not None]
        LOG.info("scored %d images (%d failed, %d SRs); %d waiting", len(records), len(failed),
                 len(written), len(self.queue))
        for record in failed:
            LOG.warning("%s: %s", Path(record.path).stem, record.error)
        self.send_soon()

    def send(self) -> None:
        """Send every SR waiting (this batch's and any an earlier try could not)."""
        destination = self.options.send_sr
        waiting = self.queue.unsent() if destination is not None else []
        if not waiting or destination is None:
            return
        files = []
        for uid in waiting:
            path = self.options.sr / f"{uid}.dcm"
            if path.is_file():
                files.append(path)
            else:
                LOG.warning("SR %s is no longer in %s; not sent", uid, self.options.sr)
                self.queue.sent(uid)
        for path in send_srs(destination, files, calling_aet=self.options.scp.ae_title,
                             tls=self.options.send_tls):
            self.queue.sent(path.stem)


def listen(scorer: Scorer, options: ListenOptions, stop: threading.Event, *,
           on_ready: Callable[[str, int], None] = lambda host, port: None) -> ScoreSummary:
    """Receive, score, write and send until ``stop`` is set; return what was done.

    Images left in the queue by an earlier session are scored first. ``on_ready`` is
    called with the address bound once the SCP listens.

    :raises ListenError: the SCP cannot listen where asked.
    :raises OutputError: the output cannot be written or resumed.
    """
    output = options.output
    format_for(output)
    make_parent(output)
    summary = ScoreSummary(provider=scorer.provider, variant=scorer.variant,
                           model_sha256=scorer.sha256, output=str(output),
                           sr_folder=str(options.sr))
    start = time.perf_counter()
    with output_lock(output) as lock:
        notify_takeover(lock, lambda event: LOG.warning("%s", event.description))
        done = prepare_output(output, DecisionRule(scorer.classes, scorer.threshold,
                                                   scorer.sha256, True), resume=True)
        fresh = not output.exists() or output.stat().st_size == 0
        fh = open(output, "a", encoding=ENCODING, errors=ERRORS, newline="")
        try:
            writer = RecordWriter(fh, format_for(output), scorer.classes, header=fresh,
                                  durable=True, uids=True)
            loop = _Loop(scorer, options, writer, done, summary)
            try:
                _run(loop, options, stop, on_ready)
            finally:
                loop.close()
        finally:
            close_quietly(fh)
            summary.seconds = time.perf_counter() - start
    return summary


def _run(loop: _Loop, options: ListenOptions, stop: threading.Event,
         on_ready: Callable[[str, int], None]) -> None:
    """Score what an earlier session left, then listen and score until ``stop``."""
    backlog = loop.queue.pending()
    if backlog:
        LOG.info("%d images were waiting from the last session; scoring them first",
                 len(backlog))
    while backlog and not stop.is_set():
        loop.score(backlog[:options.batch_size])
        backlog = loop.queue.pending()
    loop.send_soon()  # SRs an earlier session could not send
    if stop.is_set():
        return
    scp = StorageScp(options.scp, loop.queue, lambda uid: uid in loop.done_uids)
    try:
        host, port = scp.start()
    except OSError as exc:
        raise ListenError(f"cannot listen on {options.scp.host}:{options.scp.port}: "
                          f"{exc.strerror or exc}",
                          hint="choose a free --port (another listener may hold it)") from None
    on_ready(host, port)
    try:
        while not stop.is_set():
            batch = loop.next_batch(stop)
            if batch:
                loop.score(batch)
    finally:
        scp.stop()
        LOG.info("stopped; %d images wait for the next start", len(loop.queue))
