"""Shared fixtures: isolated plugins and cache, a CLI runner, tiny configs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from bamnet_testing import TINY_CONFIG, CLIResult, run_cli

# Installed third-party plugins never load in the test suite.
os.environ["BAMNET_LOAD_PLUGINS"] = ""
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Each test gets no third-party plugins, no debug mode and a shared temp cache."""
    monkeypatch.setenv("BAMNET_LOAD_PLUGINS", "")
    monkeypatch.delenv("BAMNET_DEBUG", raising=False)
    monkeypatch.delenv("BAMNET_TRACE_PLUGINS", raising=False)
    cache = tmp_path_factory.getbasetemp() / "bamnet-cache"
    monkeypatch.setenv("BAMNET_CACHE_DIR", str(cache))


@pytest.fixture
def cli() -> Callable[..., CLIResult]:
    """Call ``cli("plugins", "--json")`` to run the CLI in-process."""
    return run_cli


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A config that trains in seconds: 32x32 phantoms, a 2-block CNN, 2 epochs."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG, encoding="utf-8")
    return path
