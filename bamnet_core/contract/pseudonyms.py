"""Keyed pseudonyms: the same identifier always maps to the same opaque name.

``pseudonym("MRN0042")`` is ``"p-"`` and 16 hex digits of HMAC-SHA256 under a
secret key. Without the key, a pseudonym cannot be tested against a guessed
patient id, which a plain hash (of a low-entropy medical record number) could.
The key is ``BAMNET_PSEUDONYM_KEY`` when set, else a random key created once in
``$XDG_CONFIG_HOME/bamnet/pseudonym.key`` (mode 0600), outside every run
folder. Keep that file to keep pseudonyms stable across runs and machines;
a run folder never holds it.

A run whose patient ids are pseudonyms (:func:`is_pseudonym`) records the key's
fingerprint (:func:`key_fingerprint`: a keyed hash of a fixed label, never the
key), so a later command on the run can tell that the key changed or went
missing (:func:`key_in_use` looks without creating one).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

KEY_ENV = "BAMNET_PSEUDONYM_KEY"
FINGERPRINT_LABEL = b"bamnet pseudonym-key fingerprint v1"
PSEUDONYM_SHAPE = re.compile(r"^[ps]-[0-9a-f]{16}$")


def key_file() -> Path:
    """Where the pseudonym key lives when ``BAMNET_PSEUDONYM_KEY`` is not set."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config, "bamnet", "pseudonym.key")


def pseudonym_key() -> bytes:
    """The secret key: from the environment, else the key file (created once, 0600)."""
    text = os.environ.get(KEY_ENV)
    if text:
        return text.encode("utf-8")
    path = key_file()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    hint = ("restore it from a backup, or delete it to start new pseudonyms (they will not match "
            f"earlier runs'); or set {KEY_ENV}")
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the pseudonym key ({exc})", hint=hint) from None
    if len(text) < 32:
        raise ConfigError(f"{path}: the pseudonym key is damaged (shorter than 32 characters)",
                          hint=hint)
    return text.encode("ascii")


def pseudonym(value: str, *, scope: str = "patient", prefix: str = "p-",
              key: bytes | None = None) -> str:
    """The keyed pseudonym of ``value`` within ``scope`` (``"patient"``, ``"study"``, a run id).

    :param key: the secret; default :func:`pseudonym_key`.
    """
    secret = key if key is not None else pseudonym_key()
    digest = hmac.new(secret, f"{scope}\0{value}".encode(), hashlib.sha256).hexdigest()
    return f"{prefix}{digest[:16]}"


def is_pseudonym(value: str | None) -> bool:
    """Whether ``value`` has the shape of a patient or study pseudonym (``p-``/``s-`` and 16
    hex digits), as :func:`pseudonym` makes them with its default prefixes."""
    return bool(value) and PSEUDONYM_SHAPE.match(value) is not None


def key_fingerprint(key: bytes) -> str:
    """A name for ``key`` that does not reveal it: 16 hex digits of HMAC-SHA256 of a fixed
    label under the key. Two keys share a fingerprint only by chance (1 in 2**64)."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class KeyInUse:
    """The key pseudonyms would be made with now: its fingerprint, and where it comes from."""

    fingerprint: str
    origin: str  # KEY_ENV, or the key file's path


def key_in_use() -> KeyInUse | None:
    """The key :func:`pseudonym_key` would return, looked up without creating one.

    :returns: None when ``BAMNET_PSEUDONYM_KEY`` is unset and the key file is absent.
    :raises ConfigError: the key file is there but damaged or unreadable.
    """
    text = os.environ.get(KEY_ENV)
    if text:
        return KeyInUse(key_fingerprint(text.encode("utf-8")), KEY_ENV)
    path = key_file()
    try:
        return KeyInUse(key_fingerprint(_read_key(path)), str(path))
    except FileNotFoundError:
        return None
