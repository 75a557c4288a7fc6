"""``bamnet data fetch``: resumable, checksum-verified, atomic; against 127.0.0.1 only."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bamnet_core.contract import DatasetDownload
from bamnet_core.data.fetch import FetchError, download, fetch_dataset


def archive_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ds-main/metadata.csv", "patientid,finding,filename\n")
        zf.writestr("ds-main/images/readme.txt", "x" * 5000)
    return buf.getvalue()


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    ranges: list[str] = []
    drop_after: int | None = None

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        data = type(self).payload
        start = 0
        header = self.headers.get("Range")
        type(self).ranges.append(header or "")
        if header:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = type(self).drop_after
        if cut is not None and not header:
            self.wfile.write(body[:cut])  # then hang up: a broken download
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Silence the server."""


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("H", (_Handler,), {"payload": archive_bytes(), "ranges": [],
                                      "drop_after": None})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/ds.zip", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def spec_for(url: str, sha: str | None) -> DatasetDownload:
    return DatasetDownload(name="demo", url=url, sha256=sha, folder="ds-main",
                           manual="get ds.zip from the demo site")


def test_fetch_verifies_and_unpacks_atomically(server, tmp_path: Path):
    url, handler = server
    sha = hashlib.sha256(handler.payload).hexdigest()
    result = fetch_dataset(spec_for(url, sha), tmp_path)
    assert result["verified"] and result["sha256"] == sha
    assert (tmp_path / "ds-main" / "metadata.csv").is_file()
    assert not list(tmp_path.glob(".unpack-*")) and not list((tmp_path / ".partial").iterdir())
    again = fetch_dataset(spec_for(url, sha), tmp_path)
    assert again["already"]


def test_fetch_resumes_with_a_range_request(server, tmp_path: Path):
    url, handler = server
    handler.drop_after = 1000
    target = tmp_path / "ds.zip"
    with pytest.raises(FetchError, match="connection closed"):
        download(url, target, timeout=5)
    assert (tmp_path / "ds.zip.part").stat().st_size == 1000
    handler.drop_after = None
    download(url, target, timeout=5)
    assert handler.ranges[-1] == "bytes=1000-"
    assert target.read_bytes() == handler.payload


def test_checksum_mismatch_deletes_the_download(server, tmp_path: Path):
    url, _ = server
    with pytest.raises(FetchError, match="does not match"):
        fetch_dataset(spec_for(url, "0" * 64), tmp_path)
    assert not (tmp_path / "ds-main").exists()
    assert not list((tmp_path / ".partial").glob("*.zip"))


def test_no_network_fails_fast_with_instructions(tmp_path: Path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as info:
        fetch_dataset(spec_for(f"http://127.0.0.1:{port}/ds.zip", None), tmp_path, timeout=2)
    assert "cannot reach" in info.value.message
    assert "get ds.zip from the demo site" in info.value.hint
    assert str(tmp_path / "ds-main") in info.value.hint


def test_cli_fetch_with_url_override_and_manual_only_sources(cli, server, tmp_path: Path):
    url, handler = server
    spec_folder = "covid-chestxray-dataset-master"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{spec_folder}/metadata.csv", "patientid,finding,filename\n")
    handler.payload = buf.getvalue()
    sha = hashlib.sha256(handler.payload).hexdigest()
    result = cli("data", "fetch", "cohen-covid", "--dest", str(tmp_path), "--url", url,
                 "--sha256", sha, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["verified"] is True
    assert (tmp_path / spec_folder / "metadata.csv").is_file()
    result = cli("data", "fetch", "kermany-cxr", "--dest", str(tmp_path))
    assert result.exit_code == 1
    assert "cannot be downloaded automatically" in result.stderr
    assert "mendeley" in result.stderr.lower()
