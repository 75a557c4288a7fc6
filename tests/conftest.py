"""Shared fixtures: isolated plugins and cache, a CLI runner, tiny configs."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

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


@dataclass
class CLIResult:
    """What one CLI invocation produced."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CLIResult:
    """Run ``bamnet ARGS`` in-process through ``main`` (errors handled as for users)."""
    from bamnet_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CLIResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., CLIResult]:
    """Call ``cli("plugins", "--json")`` to run the CLI in-process."""
    return run_cli


TINY_CONFIG = """\
[run]
name = "tiny"
seed = 3

[data]
source = "synthetic-cxr"
classes = ["normal", "covid"]
positive = "covid"
patients_per_class = 12
max_images_per_patient = 2
size = 48

[preprocess]
size = 32
channels = 1

[split]
val = 0.3

[backbone]
name = "small-cnn"
filters = [4, 8]
dense = 8

[train]
epochs = 2
batch_size = 8
"""


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A config that trains in seconds: 32x32 phantoms, a 2-block CNN, 2 epochs."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG, encoding="utf-8")
    return path


def python() -> str:
    """The interpreter running the tests (for subprocess tests)."""
    return sys.executable
