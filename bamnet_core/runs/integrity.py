"""Whether a run folder still holds what its stages wrote: checked against ``integrity.json``.

Every file a stage writes is entered in ``integrity.json`` with its SHA-256 and
size (:meth:`RunFolder.record <bamnet_core.runs.folder.RunFolder.record>`), with
the resolved config's hash and the pseudonym key's fingerprint. A command that
reads a run folder checks the files it reads first (:func:`refuse_changed`): a
file that differs, or one a whole record never held, is refused in one line
naming it and the stage to redo, never used. :func:`verify_run` checks every
entry, for ``bamnet verify``.

The record detects a file changed by hand, by another tool or by damage. It is
not a signature: whoever can rewrite the run folder can rewrite the record too.

A run made before bamnet kept the record has none: it is read as before, and
each check says so once (a notice, not a refusal).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._util.digest import Digest, text_digest
from ..contract.pseudonyms import KEY_ENV, is_pseudonym, key_in_use
from ..errors import ConfigError, RunError
from . import layout
from .folder import RunFolder
from .integrity_file import EXTERNAL, START, IntegrityFile, PseudonymKey

REDOABLE = ("evaluate", "export", "report")
"""The stages ``bamnet resume RUN --from STAGE`` redoes (the pipeline's rerunnable ones)."""

READ_BACK = (layout.CONFIG, layout.PREPROCESS, layout.SPLIT_JSON, layout.SPLITS_CSV,
             layout.AUDIT, layout.PROPERTIES, layout.MODEL, layout.BEST, layout.HISTORY,
             f"{layout.CHECKPOINT}/*", layout.PREDICTIONS, layout.METRICS, "*.onnx",
             layout.EXPORT_REPORT, layout.GENERATOR_MANIFEST, layout.GENERATOR_FITTED_ON,
             f"{layout.EXTERNAL}/*/{layout.METRICS}", f"{layout.EXTERNAL}/*/{layout.PREDICTIONS}")
"""The files some command reads back from a run folder (globs): each is recorded by the
stage that writes it, so one of these present but not recorded was not written by the run."""

Status = Literal["holds", "changed", "missing", "unrecorded"]

NO_RECORD = ("was made before bamnet recorded its files' hashes (no integrity.json): its "
             "files are not checked")


def old_run_notice(run: RunFolder) -> str:
    """The notice for a run folder without ``integrity.json``."""
    return f"{run.path} {NO_RECORD}"


@dataclass(frozen=True)
class FileCheck:
    """One file of a run folder against its record."""

    name: str
    status: Status
    stage: str | None = None
    detail: str = ""

    @property
    def holds(self) -> bool:
        """The file is what its stage wrote."""
        return self.status == "holds"


def check_file(run: RunFolder, record: IntegrityFile, name: str) -> FileCheck:
    """``name`` (run-relative) as it is now against its entry in ``record``."""
    entry = record.files.get(name)
    present = os.path.lexists(run.file(name))
    if entry is None:
        return FileCheck(name, "unrecorded" if present else "missing", None,
                         "not in integrity.json" if present else "")
    if not present:
        return FileCheck(name, "missing", entry.stage, f"the {entry.stage} stage wrote it")
    try:
        sha256, size = run.digest(name)
    except OSError as exc:
        return FileCheck(name, "changed", entry.stage,
                         f"cannot be read ({exc.strerror or exc})")
    if sha256 == entry.sha256 and size == entry.size:
        return FileCheck(name, "holds", entry.stage)
    return changed(name, entry.stage, entry.size, size)


def changed(name: str, stage: str, recorded: int, size: int) -> FileCheck:
    """A file whose SHA-256 differs from its record."""
    sizes = f"{recorded} -> {size} bytes" if size != recorded else f"still {size} bytes"
    return FileCheck(name, "changed", stage, f"SHA-256 differs from the record, {sizes}")


def wrote(stage: str | None) -> str:
    """Who wrote a file of ``stage``, and when, in words."""
    if stage == START:
        return "the run wrote when it started"
    if stage == EXTERNAL:
        return "`bamnet evaluate` wrote"
    return f"the {stage} stage wrote" if stage else "the run wrote"


def redo_hint(run: RunFolder, stage: str | None) -> str:
    """What to do about a changed file that ``stage`` wrote."""
    back = "put back the file the run wrote (from a backup)"
    if stage in REDOABLE:
        return f"{back}, or write it again: bamnet resume {run.path} --from {stage}"
    if stage == EXTERNAL:
        return f"{back}, or evaluate again: bamnet evaluate {run.path} --data ..."
    if stage == START:
        return f"{back}; to run with a changed config, start a new run: bamnet run CONFIG"
    return f"{back}, or start a new run (the {stage or 'run'} stage is not redone in place)"


def refusal(run: RunFolder, check: FileCheck) -> RunError:
    """The one-line refusal of a file that is not what the run wrote."""
    path = run.file(check.name)
    if check.status == "unrecorded":
        return RunError(f"{path} is not in the run's record (integrity.json): the run did not "
                        "write it, so it is not used",
                        hint=f"remove it, or start a new run; `bamnet verify {run.path}` "
                             "lists every file")
    return RunError(f"{path} is not what {wrote(check.stage)} ({check.detail}); it is not "
                    "used", hint=redo_hint(run, check.stage))


def recorded_names(run: RunFolder, record: IntegrityFile, patterns: Iterable[str]) -> list[str]:
    """The recorded files and the files present that match ``patterns`` (globs)."""
    wanted = list(patterns)
    present = [p.relative_to(run.path).as_posix() for pattern in wanted
               for p in run.path.glob(pattern) if p.is_file() or p.is_symlink()]
    named = [n for n in record.files if any(fnmatch.fnmatch(n, p) for p in wanted)]
    return sorted({*named, *present})


def refuse_changed(run: RunFolder, names: Iterable[str], *,
                   record: IntegrityFile | None = None) -> str | None:
    """Refuse the first of ``names`` (run-relative, or globs) that is not what the run wrote.

    A recorded file that is absent passes (its reader says what is missing); one present
    but never recorded is refused when the record is whole.

    :returns: a notice when the run has no record (made before bamnet kept one), else None.
    :raises RunError: one line naming the file and what to do.
    """
    record = record if record is not None else run.read_record()
    if record is None:
        return old_run_notice(run)
    for name in recorded_names(run, record, names):
        check = check_file(run, record, name)
        if check.status == "changed" or (check.status == "unrecorded" and record.whole):
            raise refusal(run, check)
    return None


def refuse_changed_model(path: str | Path, found: Digest) -> None:
    """Refuse a model file (``bamnet score MODEL``) that sits in a run folder whose record
    says otherwise; ``found`` is the digest the caller took of it anyway (read once).

    A model outside a run folder, or in a run made before the record, is not checked.
    """
    real = Path(os.path.realpath(path))
    run = RunFolder(real.parent)
    try:
        record = run.read_record()
    except RunError:
        record = None  # a damaged record of the folder: `bamnet verify` says so; not ours
    if record is None:
        return
    entry = record.files.get(real.name)
    if entry is None and not record.whole:
        return
    if entry is None:
        raise refusal(run, FileCheck(real.name, "unrecorded"))
    if (found.sha256, found.size) != (entry.sha256, entry.size):
        raise refusal(run, changed(real.name, entry.stage, entry.size, found.size))


def refuse_changed_config(run: RunFolder, record: IntegrityFile | None,
                          resolved_toml: str) -> None:
    """Refuse a config that now resolves to something other than what the run recorded
    (``resolved_toml``: the loaded ``config.toml`` written out again)."""
    if record is None or record.config_sha256 is None:
        return
    if text_digest(resolved_toml) != record.config_sha256:
        raise RunError(f"{run.file(layout.CONFIG)} no longer resolves to the config the run "
                       "was made with (a changed file, or a plugin whose defaults changed)",
                       hint=redo_hint(run, START))


# -- the pseudonym key ---------------------------------------------------------------------


def key_at_start(ids: Iterable[str | None]) -> PseudonymKey | None:
    """What ``integrity.json`` records of the pseudonym key when a run starts: its
    fingerprint, when some of the run's patient or study ids (``ids``) are pseudonyms made
    under a key, and a key is present (none is made for it); else nothing, and nothing is
    checked later. A damaged key file is left to the commands that use the key."""
    if not any(is_pseudonym(value) for value in ids):
        return None
    try:
        found = key_in_use()
    except ConfigError:
        return None
    return None if found is None else PseudonymKey(fingerprint=found.fingerprint,
                                                    origin=found.origin)


@dataclass(frozen=True)
class KeyCheck:
    """The pseudonym key now against the one the run recorded."""

    status: Literal["holds", "changed", "missing", "unrecorded"]
    recorded: str | None = None
    now: str | None = None
    origin: str | None = None

    @property
    def holds(self) -> bool:
        """The same key, or a run that recorded none."""
        return self.status in ("holds", "unrecorded")

    def sentence(self) -> str:
        """What holds or not, in words (never the key)."""
        if self.status == "unrecorded":
            return "the run recorded no pseudonym key (none was present when it started)"
        if self.status == "holds":
            return f"the pseudonym key is the run's (fingerprint {self.recorded}, from " \
                   f"{self.origin})"
        if self.status == "missing":
            return (f"the pseudonym key the run was made with (fingerprint {self.recorded}) is "
                    f"missing: {KEY_ENV} is not set and there is no key file")
        return (f"the pseudonym key differs from the one the run was made with (fingerprint "
                f"{self.now} from {self.origin}; the run's is {self.recorded})")


def check_key(record: IntegrityFile | None) -> KeyCheck:
    """The key in use now (never created) against the run's record."""
    recorded = record.pseudonym_key if record is not None else None
    if recorded is None:
        return KeyCheck("unrecorded")
    found = key_in_use()
    if found is None:
        return KeyCheck("missing", recorded.fingerprint)
    return KeyCheck("holds" if found.fingerprint == recorded.fingerprint else "changed",
                    recorded.fingerprint, found.fingerprint, found.origin)


def refuse_other_key(run: RunFolder, record: IntegrityFile | None, *, why: str) -> None:
    """Refuse to go on with a pseudonym key other than the run's, or without one.

    :param why: what another key would break, in a few words.
    :raises RunError: naming ``BAMNET_PSEUDONYM_KEY`` and what to do; a missing key is
        never made anew here.
    """
    check = check_key(record)
    if check.holds:
        return
    raise RunError(f"{check.sentence()}: {why}",
                   hint=f"set {KEY_ENV} to the key the run was made with (or restore its key "
                        f"file from a backup); a new key would give its patients other "
                        f"pseudonyms. `bamnet verify {run.path}` shows the fingerprints")


def refuse_missing_key(run_dir: str | Path, *, why: str) -> None:
    """Refuse to make pseudonyms for a run that recorded a key when no key is present now,
    rather than let a new key be made behind the user's back (another key is the user's
    choice: its pseudonyms differ, and ``bamnet verify`` says so)."""
    run = RunFolder(run_dir)
    record = run.read_record()
    if check_key(record).status == "missing":
        refuse_other_key(run, record, why=why)


def warn_other_key(record: IntegrityFile | None, *, harmless: str) -> str | None:
    """A notice when the key differs where that does no harm (``harmless`` says why), else
    None."""
    check = check_key(record)
    return None if check.holds else f"{check.sentence()}; {harmless} ({KEY_ENV})"


# -- bamnet verify -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """Every recorded file of a run folder, its config and its pseudonym key, checked."""

    run: Path
    recorded: bool
    whole: bool = False
    files: list[FileCheck] = field(default_factory=list)
    config: Literal["holds", "changed", "unrecorded"] = "unrecorded"
    key: KeyCheck = field(default_factory=lambda: KeyCheck("unrecorded"))

    @property
    def problems(self) -> list[FileCheck]:
        """The files that do not hold: changed, missing, or present but never recorded."""
        return [f for f in self.files if not f.holds and (f.status != "unrecorded"
                                                          or self.whole)]

    @property
    def ok(self) -> bool:
        """Everything recorded holds (a run without a record is not ok: nothing holds)."""
        return self.recorded and not self.problems and self.config != "changed" and \
            self.key.holds

    def to_json(self) -> dict[str, Any]:
        """What ``bamnet verify --json`` prints."""
        return {"run": str(self.run), "ok": self.ok, "recorded": self.recorded,
                "whole": self.whole, "config": self.config,
                "pseudonym_key": {"status": self.key.status, "recorded": self.key.recorded,
                                  "now": self.key.now, "origin": self.key.origin},
                "files": [{"name": f.name, "status": f.status, "stage": f.stage,
                           "detail": f.detail} for f in self.files]}


def verify_run(run: RunFolder, resolved_toml: str | None = None) -> Verification:
    """Check every file ``integrity.json`` records, and the files a run reads back that it
    does not; the config (given ``resolved_toml``, the loaded config written out) and the
    pseudonym key.

    :raises RunError: ``integrity.json`` is damaged or of a newer version.
    """
    record = run.read_record()
    if record is None:
        return Verification(run.path, recorded=False)
    files = [check_file(run, record, name) for name in recorded_names(run, record, READ_BACK)]
    files += [check_file(run, record, name) for name in sorted(record.files)
              if name not in {f.name for f in files}]
    config: Literal["holds", "changed", "unrecorded"] = "unrecorded"
    if resolved_toml is not None and record.config_sha256 is not None:
        config = "holds" if text_digest(resolved_toml) == record.config_sha256 else "changed"
    return Verification(run.path, recorded=True, whole=record.whole, files=files,
                        config=config, key=check_key(record))
