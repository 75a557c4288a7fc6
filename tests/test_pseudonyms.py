"""Keyed pseudonyms: stable under one key, unguessable without it, the key kept outside runs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bamnet_core.contract.pseudonyms import KEY_ENV, key_file, pseudonym, pseudonym_key
from bamnet_core.errors import ConfigError


def test_the_key_file_is_made_once_private_and_reused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv(KEY_ENV, raising=False)
    first = pseudonym_key()
    path = key_file()
    assert path == tmp_path / "bamnet" / "pseudonym.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert pseudonym_key() == first and len(first) >= 32


def test_the_environment_key_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv(KEY_ENV, "k" * 40)
    assert pseudonym("MRN1") == pseudonym("MRN1", key=b"k" * 40)
    assert not key_file().exists()


def test_pseudonyms_depend_on_key_scope_and_value() -> None:
    key = b"a" * 32
    one = pseudonym("MRN1", key=key)
    assert one.startswith("p-") and len(one) == 18 and "MRN1" not in one
    assert pseudonym("MRN1", key=key) == one
    assert len({one, pseudonym("MRN2", key=key), pseudonym("MRN1", key=b"b" * 32),
                pseudonym("MRN1", key=key, scope="study")}) == 4


def test_a_damaged_key_file_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv(KEY_ENV, raising=False)
    key_file().parent.mkdir(parents=True)
    key_file().write_text("short\n")
    with pytest.raises(ConfigError, match="damaged"):
        pseudonym_key()
