"""DICOM networking for the listener's tests and benchmark: images in several transfer
syntaxes, a C-STORE sender, an SR-receiving Storage SCP, and ``bamnet listen`` as a real
process. Loopback only (127.0.0.1, a free port).
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from dicom_fixtures import encode, make_dataset, patient_tags, phantom, save

from bamnet_core.hospital.sender import store

SENDER, LISTENER, RECEIVER = "MODALITY1", "BAMNET", "PACS1"
SR_CLASS = "1.2.840.10008.5.1.4.1.1.88.34"
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
RLE, JPEG_BASELINE = "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _jpeg_baseline(ds: object) -> object:
    """``ds`` (8-bit) as JPEG baseline: OpenCV encodes, pydicom encapsulates."""
    import cv2
    from pydicom.encaps import encapsulate

    pixels = np.frombuffer(ds.PixelData, np.uint8).reshape(ds.Rows, ds.Columns)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    ds.PixelData = encapsulate([data.tobytes()])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEG_BASELINE
    ds.LossyImageCompression = "01"
    return ds


def make_images(folder: Path, count: int = 50, size: int = 32,
                damaged: int | None = None) -> list[Path]:
    """``count`` chest phantoms cycling through explicit and implicit little endian, RLE and
    JPEG baseline, four patients; image ``damaged`` (if given) has its pixels cut short."""
    paths = []
    syntaxes = [EXPLICIT, IMPLICIT, RLE, JPEG_BASELINE]
    for i in range(count):
        syntax = syntaxes[i % len(syntaxes)]
        bits = 8 if syntax == JPEG_BASELINE else 12
        pixels = phantom(i, size)
        if bits == 8:
            pixels = (pixels >> 4).astype(np.uint8)
        tags = patient_tags(i % 4, sex="FM"[i % 2], age=30 + i, study=i % 4)
        ds = make_dataset(pixels, bits=bits, tags=tags)
        ds = _jpeg_baseline(ds) if syntax == JPEG_BASELINE else encode(ds, syntax)
        if i == damaged:
            ds = make_dataset(pixels, bits=bits, tags=tags)
            ds.PixelData = ds.PixelData[: len(ds.PixelData) // 3]
        paths.append(save(ds, folder / f"img{i:03d}.dcm"))
    return paths


def send(paths: Iterable[Path], port: int, *, calling: str = SENDER,
         stop_after: int | None = None, tls: ssl.SSLContext | None = None,
         timeout: float = 30) -> dict[Path, int | None]:
    """C-STORE each file to the listener on ``port``; each file's status (None: not sent or
    no answer). Gives up on the rest once the association is lost."""
    from pydicom import dcmread
    from pynetdicom import AE

    paths = list(paths)
    datasets = {p: dcmread(p) for p in paths}
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    for cls, syntax in {(str(d.SOPClassUID), str(d.file_meta.TransferSyntaxUID))
                        for d in datasets.values()}:
        ae.add_requested_context(cls, syntax)
    status: dict[Path, int | None] = dict.fromkeys(paths)
    assoc = ae.associate("127.0.0.1", port, ae_title=LISTENER,
                         tls_args=(tls, "127.0.0.1") if tls else None)
    if not assoc.is_established:
        return status
    try:
        for n, path in enumerate(paths):
            if stop_after is not None and n >= stop_after:
                break
            try:
                status[path] = store(assoc, datasets[path])
            except (RuntimeError, ValueError):
                break
            if not assoc.is_established:
                break
    finally:
        if assoc.is_established:
            assoc.release()
    return status


class SrReceiver:
    """A Storage SCP for SRs (the PACS the listener sends back to), on 127.0.0.1."""

    def __init__(self, folder: Path, tls: ssl.SSLContext | None = None) -> None:
        from pynetdicom import AE, evt

        self.folder, self.port = folder, free_port()
        folder.mkdir(parents=True, exist_ok=True)
        ae = AE(ae_title=RECEIVER)
        ae.add_supported_context(SR_CLASS, [EXPLICIT, IMPLICIT])
        self.server = ae.start_server(("127.0.0.1", self.port), block=False, ssl_context=tls,
                                      evt_handlers=[(evt.EVT_C_STORE, self._store)])

    def _store(self, event: object) -> int:
        uid = event.request.AffectedSOPInstanceUID
        (self.folder / f"{uid}.dcm").write_bytes(event.encoded_dataset())
        return 0x0000

    def received(self) -> dict[str, Path]:
        """SR SOP Instance UID -> its file."""
        return {p.stem: p for p in self.folder.glob("*.dcm")}

    def close(self) -> None:
        self.server.shutdown()

    @property
    def address(self) -> str:
        return f"{RECEIVER}@127.0.0.1:{self.port}"


class Listener:
    """``bamnet listen`` as a real process, its stderr collected."""

    def __init__(self, model: Path, output: Path, port: int, *extra: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")])}
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bamnet_core", "listen", str(model), "-o", str(output),
             "--port", str(port), "--host", "127.0.0.1", "--ae-title", LISTENER,
             "--allow", SENDER, "--batch-wait", "0.2", "--provider", "cpu", *extra],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if line.startswith("Listening as"):
                self.ready.set()

    def wait_ready(self, timeout: float = 60) -> None:
        if not self.ready.wait(timeout):
            self.proc.kill()
            raise AssertionError("listener never listened:\n" + "".join(self.lines))

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def terminate(self, timeout: float = 60) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def make_certificates(folder: Path) -> dict[str, Path]:
    """A private CA and two certificates it signed (``node``: the listener and the SR
    receiver; ``sender``), valid for 127.0.0.1, made with openssl as docs/hospital.md shows."""
    folder.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=bamnet-test-ca", "-keyout", "ca.key", "-out", "ca.pem")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("node", "sender"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout",
            f"{name}.key", "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}.pem")
    return {n: folder / n for n in ("ca.pem", "node.pem", "node.key", "sender.pem",
                                     "sender.key")}


def tls_context(files: dict[str, Path], who: str, *, server: bool) -> ssl.SSLContext:
    """A TLS context for ``who`` (``node`` or ``sender``) trusting the test CA only."""
    purpose = ssl.Purpose.CLIENT_AUTH if server else ssl.Purpose.SERVER_AUTH
    context = ssl.create_default_context(purpose, cafile=str(files["ca.pem"]))
    context.load_cert_chain(files[f"{who}.pem"], files[f"{who}.key"])
    if server:
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def wait_for(predicate: object, timeout: float = 60, what: str = "") -> None:
    """Poll ``predicate()`` until true; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
