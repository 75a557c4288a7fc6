"""The self-describing run folder: ``<output>/<timestamp>-<name>/``.

Every file in it is written atomically, and written three ways:

- each JSON run file (``meta.json``, ``metrics.json`` and each external
  evaluation's, ``data-audit.json``, ``split.json``, ``export-report.json``, and
  the ``loso.json`` / ``comparison.json`` of a folder of runs) is one versioned
  model (:mod:`bamnet_core.runs.files`), written with :meth:`RunFolder.write_model`
  and read with :meth:`RunFolder.read_model`; ``meta.json`` is rewritten in place
  with :meth:`RunFolder.overwrite_model` when the disk is too full for a new file;
- ``image-properties.json`` (image path -> measured properties, what the
  shortcut baseline reads on resume) has no model: :meth:`RunFolder.write_json`
  and :meth:`RunFolder.read_json`;
- the rest is text (``config.toml`` and ``preprocess.json`` in their own forms,
  CSVs, the report):
  :meth:`RunFolder.write_text` and :meth:`RunFolder.read_text`.

``meta.json`` records the bamnet version, plugin pins, seed, device and timings,
and a ``status`` that is ``running`` until the run completes.

``integrity.json`` records every other file a stage writes, with its SHA-256 and
size: the stage calls :meth:`RunFolder.record` as soon as its files are in place
(:mod:`bamnet_core.runs.integrity` checks them).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from .. import __version__
from .._util import atomic
from .._util.digest import Digest, file_digest
from .._util.lock import OutputLock
from ..errors import RunError
from .integrity_file import START, IntegrityFile, PseudonymKey, RecordedFile
from .layout import INTEGRITY, LOCK
from .meta_file import MetaFile
from .paths import from_record, relativize, to_record
from .size_caps import cap_of, read_capped
from .versioned import RunFile

Model = TypeVar("Model", bound=RunFile)


def unreadable(path: Path, exc: OSError) -> RunError:
    """One line for a run file that cannot be read, with the hint its cause calls for:
    permissions, or something other than the file the run wrote (a FIFO, a folder, a link
    that loops or leads nowhere)."""
    hint = "check the run folder's permissions" if exc.errno in (errno.EACCES, errno.EPERM) \
        else "put back the file the run wrote (from a backup), or start a new run"
    return RunError(f"cannot read {path}: {exc.strerror or exc}", hint=hint)


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string."""
    return datetime.now(UTC).isoformat(timespec="seconds")


SLUG_MAX = 80  # characters of the run name in the folder name (file systems allow 255 bytes)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:SLUG_MAX].strip("-") or "run"


class RunFolder:
    """One run's folder and its files."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(os.path.abspath(Path(path).expanduser()))
        self._digests: dict[str, tuple[tuple[int, ...], Digest]] = {}

    @classmethod
    def create(cls, output_dir: str | Path, name: str) -> RunFolder:
        """Make a new, uniquely named folder under ``output_dir``."""
        base = Path(output_dir)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(f"cannot create output folder {base}: {exc.strerror or exc}",
                           hint="pass a writable --output-dir") from None
        for n in range(1, 1000):
            suffix = "" if n == 1 else f"-{n}"
            path = base / f"{stamp}-{_slug(name)}{suffix}"
            try:
                path.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:  # read-only, full, or no permission
                raise RunError(f"cannot create a run folder in {base}: {exc.strerror or exc}",
                               hint="pass a writable --output-dir") from None
            return cls(path)
        raise RunError(f"cannot find a free run folder name in {base}")

    def lock(self) -> OutputLock:
        """The lock one process holds while it runs or resumes this run (not yet taken)."""
        return OutputLock(self.file(LOCK), f"run folder {self.path}",
                          resume_hint="wait for that process to finish, or stop it and "
                                      f"continue with: bamnet resume {self.path}")

    def file(self, name: str) -> Path:
        """Path of a file in the run folder."""
        return self.path / name

    def write_text(self, name: str, text: str) -> Path:
        """Atomically write a text file into the run folder."""
        atomic.write_text(self.file(name), text)
        return self.file(name)

    def write_json(self, name: str, obj: Any) -> Path:
        """Atomically write a JSON file that has no model (``image-properties.json``); a run
        file goes through :meth:`write_model`.

        Every string in ``obj`` that names a path inside the run folder is
        written relative to it (:func:`~.paths.relativize`), so the folder can
        be moved; read such paths back with :meth:`resolve`.
        """
        atomic.write_json(self.file(name), relativize(obj, self.path))
        return self.file(name)

    def write_model(self, name: str, model: RunFile) -> Path:
        """Atomically write the run file ``name`` from its model (``schema_version`` first).

        Paths inside the folder are written relative to it, as :meth:`write_json` does.
        """
        return self.write_json(name, model.to_json())

    def overwrite_model(self, name: str, model: RunFile) -> Path:
        """Rewrite an existing run file in place: the last resort on a full disk.

        Not atomic (a crash mid-write tears it), but it needs no new blocks when
        the new text is no longer than the old, where :meth:`write_model` needs a
        whole new file.
        """
        text = json.dumps(relativize(model.to_json(), self.path), indent=2, default=str) + "\n"
        with open(self.file(name), "r+b") as fh:
            fh.truncate(0)
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        return self.file(name)

    def record_path(self, path: str | Path) -> str:
        """How ``path`` is written inside a run file (:func:`~.paths.to_record`)."""
        return to_record(self.path, path)

    def resolve(self, recorded: str) -> str:
        """The path an entry of a run file names, for where the folder is now."""
        return from_record(self.path, recorded)

    def read_text(self, name: str) -> str:
        """Read a text file of the run folder; never waits on a FIFO or reads a device.

        :raises OSError: when it is missing, unreadable, or not a regular file.
        :raises RunError: when it is larger than its cap (:mod:`.size_caps`).
        """
        return read_capped(self.file(name), cap_of(name))

    def read_json(self, name: str) -> Any:
        """Read a JSON file that has no model (``image-properties.json``): see :meth:`read_model`
        for a run file."""
        try:
            return json.loads(self.read_text(name))
        except FileNotFoundError:
            raise RunError(f"{self.file(name)} is missing",
                           hint="is this a bamnet run folder?") from None
        except ValueError as exc:  # not UTF-8, not JSON
            raise RunError(f"{self.file(name)} is damaged (not JSON: "
                           f"{str(exc).splitlines()[0][:120]})",
                           hint="restore it from a backup, or start a new run") from None
        except OSError as exc:
            raise unreadable(self.file(name), exc) from None

    def read_model(self, name: str, model: type[Model]) -> Model:
        """The run file ``name`` read through its model.

        A file written before schema versions existed (no ``schema_version``) is
        read as version 1, migrated where its shape changed since.

        :raises RunError: one line naming the file: missing, not JSON, a newer or
            unknown ``schema_version`` (upgrade bamnet), or a value off the schema.
        """
        return model.from_json(self.read_json(name), str(self.file(name)))


    def digest(self, name: str) -> Digest:
        """The SHA-256 and size of the file ``name``, hashed in chunks.

        Hashed once per file as it stands: asked again while the file's identity, size
        and times are unchanged, the same answer comes without reading it again.

        :raises OSError: when it is missing, unreadable, or not a regular file.
        """
        info = os.stat(self.file(name))
        stamp = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        known = self._digests.get(name)
        if known is not None and known[0] == stamp:
            return known[1]
        found = file_digest(self.file(name))
        self._digests[name] = (stamp, found)
        return found

    def read_record(self) -> IntegrityFile | None:
        """``integrity.json``, or None for a run made before bamnet recorded its files.

        :raises RunError: when it is damaged (named by key) or of a newer version.
        """
        if not os.path.lexists(self.file(INTEGRITY)):
            return None
        return self.read_model(INTEGRITY, IntegrityFile)

    def start_record(self, *, config_sha256: str, pseudonym_key: PseudonymKey | None,
                     names: list[str]) -> None:
        """Begin ``integrity.json`` for a new run: the resolved config's hash, the pseudonym
        key's fingerprint, and the files ``names`` written when the run started."""
        self.write_model(INTEGRITY, IntegrityFile(whole=True, config_sha256=config_sha256,
                                                  pseudonym_key=pseudonym_key))
        self.record(START, names)

    def record(self, stage: str, names: list[str]) -> None:
        """Enter the files ``names`` (run-relative), as they are now, in ``integrity.json``
        as written by ``stage``; one that does not exist leaves the record.

        Call it right after writing them: a later command refuses a file that differs.
        """
        found = self.read_record() or IntegrityFile(whole=False)
        files = dict(found.files)
        for name in names:
            try:
                sha256, size = self.digest(name)
            except FileNotFoundError:
                files.pop(name, None)
                continue
            files[name] = RecordedFile(sha256=sha256, size=size, stage=stage)
        self.write_model(INTEGRITY, found.with_entries({"files": files}))

    def forget(self, names: list[str]) -> None:
        """Take files the run removed (an older checkpoint) out of ``integrity.json``."""
        found = self.read_record()
        if found is not None and any(name in found.files for name in names):
            files = {k: v for k, v in found.files.items() if k not in names}
            self.write_model(INTEGRITY, found.with_entries({"files": files}))


def base_meta(*, seed: int, plugin_pins: list[str], config_origin: str) -> MetaFile:
    """The parts of ``meta.json`` known before a run starts."""
    return MetaFile(bamnet_version=__version__, python=sys.version.split()[0],
                    platform=platform.platform(), plugins=plugin_pins, seed=seed,
                    config_origin=config_origin, status="running", started_at=utc_now(),
                    finished_at=None, device=None, timings_s={})
