"""Download a public dataset archive: resumable, checksum-verified, atomic.

A source plugin describes its dataset with a
:class:`~bamnet_core.contract.DatasetDownload` class attribute named
``download`` (the ``Downloadable`` capability); ``bamnet data fetch NAME --dest DIR`` calls
:func:`fetch_dataset`. The archive is fetched into ``DIR/.partial/`` with HTTP
Range requests (a killed download resumes), verified against its SHA-256,
unpacked into a temp folder and renamed into place, so ``DIR/<folder>`` is
either complete or absent. With no network it fails within ``timeout``
seconds, saying what to download and where to put it.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from .._util.cachedir import file_sha256
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..contract.download import DatasetDownload
from ..errors import DataError

CHUNK = 1 << 20


class FetchError(DataError):
    """A dataset could not be downloaded, verified or unpacked."""


def _instructions(spec: DatasetDownload, dest: Path) -> str:
    how = spec.manual or f"download {spec.url}"
    return f"{how}; unpack it so that {dest / spec.folder} exists, then point [data] root there"


def _archive_name(url: str) -> str:
    tail = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "download"
    return tail if tail.endswith((".zip", ".tar", ".tar.gz", ".tgz")) else tail + ".zip"


def download(url: str, target: Path, *, timeout: float = 10.0,
             progress: ProgressCallback = silent) -> Path:
    """Download ``url`` to ``target``, resuming a partial ``target.part`` with a Range request.

    :raises FetchError: the server cannot be reached or answers with an error.
    """
    part = target.with_name(target.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "bamnet"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # already complete
            part.replace(target)
            return target
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"cannot reach {url}: {reason}") from None
    with response:
        resumed = response.status == 206
        length = response.headers.get("Content-Length")
        total = (int(length) + (have if resumed else 0)) if length else None
        done = have if resumed else 0
        with open(part, "ab" if resumed else "wb") as fh:
            while chunk := response.read(CHUNK):
                fh.write(chunk)
                done += len(chunk)
                progress(ProgressEvent("download", done, total, target.name))
    if total is not None and done < total:
        raise FetchError(f"{url}: connection closed at {done:,} of {total:,} bytes",
                         hint="run the same command again to resume")
    part.replace(target)
    return target


def unpack(archive: Path, into: Path) -> None:
    """Unpack a zip or tar archive, refusing members that escape ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    root = into.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if not (root / member).resolve().is_relative_to(root):
                    raise FetchError(f"{archive}: refused member {member!r}: it escapes the "
                                     "target folder", hint="the archive is unsafe; get it "
                                     "from a trusted source")
            try:
                zf.extractall(into)
            except (zipfile.BadZipFile, OSError) as exc:
                raise FetchError(f"{archive}: cannot unpack: {exc}",
                                 hint="delete it and run the command again") from None
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            try:
                tf.extractall(into, filter="data")
            except tarfile.FilterError as exc:
                raise FetchError(f"{archive}: refused member {exc.tarinfo.name!r}: {exc}",
                                 hint="the archive is unsafe (absolute paths, links out of "
                                      "the folder or devices); get it from a trusted source"
                                 ) from None
            except tarfile.TarError as exc:
                raise FetchError(f"{archive}: damaged tar archive: {exc}",
                                 hint="delete it and run the command again") from None
    else:
        raise FetchError(f"{archive}: not a zip or tar archive")


def fetch_dataset(spec: DatasetDownload, dest: str | Path, *, url: str | None = None,
                  sha256: str | None = None, timeout: float = 10.0,
                  progress: ProgressCallback = silent) -> dict[str, str | bool]:
    """Download, verify and unpack a dataset into ``dest/<spec.folder>``.

    :param url: replaces ``spec.url`` (a mirror, or a local test server).
    :param sha256: replaces ``spec.sha256``.
    :returns: ``path`` (the unpacked folder), ``sha256`` (of the archive),
        ``verified`` (whether a digest was checked) and ``already`` (it was there).
    :raises FetchError: with a hint saying what to download and where to put it.
    """
    dest = Path(dest).expanduser()
    final = dest / spec.folder
    if final.is_dir():
        return {"path": str(final), "sha256": "", "verified": False, "already": True}
    source_url = url or spec.url
    expected = (sha256 or spec.sha256 or "").lower() or None
    if not source_url:
        raise FetchError(f"{spec.name} cannot be downloaded automatically",
                         hint=_instructions(spec, dest))
    archive = dest / ".partial" / _archive_name(source_url)
    try:
        if not archive.exists():
            download(source_url, archive, timeout=timeout, progress=progress)
    except FetchError as exc:
        raise FetchError(exc.message, hint=exc.hint or _instructions(spec, dest)) from None
    digest = file_sha256(archive)
    if expected and digest != expected:
        archive.unlink()
        raise FetchError(f"{archive.name}: SHA-256 {digest} does not match the expected "
                         f"{expected}; the corrupt download was deleted",
                         hint="run the command again; if it repeats, the file changed upstream")
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest))
    try:
        unpack(archive, tmp)
        inner = tmp / spec.folder
        if not inner.is_dir():
            found = sorted(p.name for p in tmp.iterdir())
            raise FetchError(f"{archive.name} does not unpack to {spec.folder!r} (found "
                             f"{found})", hint=_instructions(spec, dest))
        inner.replace(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    archive.unlink()
    return {"path": str(final), "sha256": digest, "verified": expected is not None,
            "already": False}
