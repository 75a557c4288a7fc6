"""``bamnet listen MODEL -o OUT --port N --ae-title AET --allow SENDER_AET``: a DICOM node.

A Storage SCP that scores what it receives with ``bamnet score``'s engine, writes the
same rows and a Structured Report per image, and sends each SR back by C-STORE with
``--send-sr DEST_AET@HOST:PORT``. SIGTERM or Ctrl-C finishes the batch in hand and
exits 0; what is still queued is scored first at the next start. docs/hospital.md.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..imaging.limits import DEFAULT_MAX_BYTES
from .output import err

if TYPE_CHECKING:
    import ssl

DEFAULT_MAX_MB = DEFAULT_MAX_BYTES / (1024 * 1024)


def register(app: typer.Typer, state: object) -> None:
    """Add the ``listen`` command to ``app``."""

    @app.command("listen")
    def listen(
        model: Annotated[Path, typer.Argument(help="A model from `bamnet export --onnx`.")],
        output: Annotated[Path, typer.Option(
            "--output", "-o", help="Rows go to FILE.csv or FILE.jsonl (resumed if it "
                                   "exists).")],
        port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                          help="TCP port to listen on.")],
        ae_title: Annotated[str, typer.Option("--ae-title",
                                              help="This node's AE title.")],
        allow: Annotated[list[str], typer.Option(
            "--allow", help="A calling AE title that may send (repeat for more).")],
        allow_address: Annotated[list[str] | None, typer.Option(
            "--allow-address", help="Accept connections only from this IP address (repeat "
                                    "for more; default: any).")] = None,
        send_sr: Annotated[str | None, typer.Option(
            "--send-sr", help="Send each SR by C-STORE to DEST_AET@HOST:PORT.")] = None,
        sr: Annotated[Path | None, typer.Option(
            "--sr", help="Folder for the SRs (default: OUT's name + '-sr', beside it).")
        ] = None,
        queue: Annotated[Path | None, typer.Option(
            "--queue", help="Folder of received images waiting to be scored (default: "
                            "OUT's name + '-queue', beside it).")] = None,
        max_queue: Annotated[int, typer.Option(
            "--max-queue", min=1, help="Images that may wait at once; a sender gets 'out "
                                       "of resources' beyond it and retries.")] = 1000,
        host: Annotated[str, typer.Option("--host", help="Address to listen on.")
                        ] = "0.0.0.0",
        batch_size: Annotated[int, typer.Option("--batch-size", min=1,
                                                help="Images per scoring batch.")] = 32,
        batch_wait: Annotated[float, typer.Option(
            "--batch-wait", min=0.0, help="Seconds the first image of a batch waits for "
                                          "more.")] = 1.0,
        provider: Annotated[str, typer.Option(
            "--provider", help="auto (CUDA if usable, else CPU), cuda or cpu.")] = "auto",
        workers: Annotated[int | None, typer.Option(
            "--workers", min=1, help="Decoding threads (default: the usable cores).")] = None,
        max_file_mb: Annotated[float, typer.Option(
            "--max-file-mb", min=0.001, help="Refuse images larger than this on arrival.")
        ] = DEFAULT_MAX_MB,
        tls_cert: Annotated[Path | None, typer.Option(
            "--tls-cert", help="TLS: this node's certificate (PEM); with --tls-key.")] = None,
        tls_key: Annotated[Path | None, typer.Option(
            "--tls-key", help="TLS: this node's private key (PEM).")] = None,
        tls_ca: Annotated[Path | None, typer.Option(
            "--tls-ca", help="TLS: CA certificates; senders must present a certificate it "
                             "signed, and the --send-sr destination's is checked against "
                             "it.")] = None,
    ) -> None:
        """Receive images by DICOM C-STORE, score them, write rows and SRs; send SRs back."""
        from ..errors import ConfigError
        from ..hospital.listener import ListenOptions
        from ..hospital.listener import listen as run_listener
        from ..hospital.scp import ScpSettings
        from ..hospital.sender import Destination
        from ..score.scorer import Scorer

        if not allow:
            raise typer.BadParameter("give at least one --allow SENDER_AET", param_hint="--allow")
        if (tls_cert is None) != (tls_key is None):
            raise typer.BadParameter("--tls-cert and --tls-key go together",
                                     param_hint="--tls-cert")
        try:
            destination = Destination.parse(send_sr) if send_sr else None
        except ConfigError as exc:
            raise typer.BadParameter(exc.message, param_hint="--send-sr") from None
        server_tls, client_tls = _tls(tls_cert, tls_key, tls_ca)
        base = output.with_name(output.stem)
        options = ListenOptions(
            output=output, queue=queue or Path(f"{base}-queue"), sr=sr or Path(f"{base}-sr"),
            scp=ScpSettings(ae_title=ae_title, host=host, port=port, allowed_aets=tuple(allow),
                            allowed_addresses=tuple(allow_address or ()),
                            max_bytes=int(max_file_mb * 1024 * 1024), ssl_context=server_tls),
            send_sr=destination, send_tls=client_tls, max_queue=max_queue,
            batch_size=batch_size, batch_wait=batch_wait, workers=workers)
        scorer = Scorer(model, provider=provider)  # type: ignore[arg-type]
        hide_logs = _show_logs()
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set())
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            summary = run_listener(scorer, options, stop, on_ready=lambda h, p: err().print(
                f"Listening as {ae_title} on {h}:{p}; rows in {output}, SRs in {options.sr}."
                + (f" SRs go to {destination}." if destination else ""), highlight=False,
                soft_wrap=True))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            hide_logs()
        err().print(f"Stopped: scored {summary.scored} images, {summary.failed} failed, "
                    f"{summary.structured_reports} SRs written.", highlight=False)


def _show_logs() -> Callable[[], None]:
    """Show the listener's log lines (UIDs, AE titles, counts) on stderr, and pynetdicom's and
    highdicom's only from warnings up (pynetdicom's debug output would dump datasets); return
    the function that puts the loggers back as they were."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.getLogger("bamnet.listen")
    quiet = [logging.getLogger(name) for name in ("pynetdicom", "highdicom")]
    before = (log.level, log.propagate, [q.level for q in quiet])
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    for logger in quiet:
        logger.setLevel(logging.WARNING)

    def restore() -> None:
        log.removeHandler(handler)
        log.setLevel(before[0])
        log.propagate = before[1]
        for logger, level in zip(quiet, before[2], strict=True):
            logger.setLevel(level)

    return restore


def _tls(cert: Path | None, key: Path | None,
         ca: Path | None) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None]:
    """Server and client TLS contexts from PEM files (None, None without a certificate)."""
    if cert is None or key is None:
        return None, None
    import ssl

    from ..errors import ConfigError

    try:
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert, key)
        client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                            cafile=str(ca) if ca else None)
        client.load_cert_chain(cert, key)
        if ca is not None:
            server.load_verify_locations(cafile=str(ca))
            server.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS files ({cert}, {key}"
                          + (f", {ca}" if ca else "") + f"): {exc}",
                          hint="give PEM files: --tls-cert, --tls-key, and --tls-ca") from None
    return server, client
