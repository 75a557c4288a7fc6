"""``integrity.json``: every file the run recorded, with its SHA-256 and size.

The record a later command checks a run folder against
(:mod:`bamnet_core.runs.integrity`): the stage that writes a file enters it here
as soon as the file is in place, so a file changed, replaced or planted since is
refused by name instead of used.
"""

from __future__ import annotations

from pydantic import Field

from .versioned import Count, Part, RunFile

START = "start"
"""The stage name of what a run writes when it starts (``config.toml``, ``preprocess.json``)."""
EXTERNAL = "external"
"""The stage name of what ``bamnet evaluate`` writes under ``external/<name>/``."""


class RecordedFile(Part):
    """One file as its stage wrote it."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file's bytes, hex")
    size: Count = Field(description="the file's size in bytes")
    stage: str = Field(description="the stage that wrote it (start, data, generator, audit, "
                                   "train, evaluate, export, report, or external for "
                                   "`bamnet evaluate`); the one to redo after a change")


class PseudonymKey(Part):
    """The pseudonym key the run was made with, named by its fingerprint (never the key)."""

    fingerprint: str = Field(pattern=r"^[0-9a-f]{16}$",
                             description="16 hex digits of HMAC-SHA256 of a fixed label "
                                         "under the key")
    origin: str = Field(description="where the key came from: BAMNET_PSEUDONYM_KEY, or "
                                    "the key file's path")


class IntegrityFile(RunFile):
    """``integrity.json``: what a run folder held when each stage wrote it.

    Written when the run starts (the resolved config's hash, the pseudonym key's
    fingerprint when the run's ids are pseudonyms, ``config.toml`` and
    ``preprocess.json``), then by every stage for the files it writes, atomically, in
    the same step as the file. ``bamnet resume``, ``report``, ``evaluate``, ``export``
    and ``score`` (of a model in a run folder) check the files they read against it;
    ``bamnet verify`` checks all.
    """

    whole: bool = Field(False, description="the record began with the run, so every file "
                        "the run wrote is in it (false: a run made before bamnet recorded "
                        "its files, resumed since)")
    config_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$",
                                      description="SHA-256 of the resolved config, as "
                                                  "config.toml holds it")
    pseudonym_key: PseudonymKey | None = Field(
        None, description="the pseudonym key present when the run started, recorded when the "
                          "run's patient or study ids are pseudonyms; null otherwise")
    files: dict[str, RecordedFile] = Field(default_factory=dict,
                                           description="run-relative path -> its record")
