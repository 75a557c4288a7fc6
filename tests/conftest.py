"""Shared fixtures: isolated plugins and cache, a CLI runner, tiny configs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bamnet_testing import TINY_CONFIG, CLIResult, run_cli
from fake_dist import write_fake_distribution

# Installed third-party plugins never load in the test suite.
os.environ["BAMNET_LOAD_PLUGINS"] = ""
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Each test gets no third-party plugins, no debug mode, a shared temp cache and config."""
    monkeypatch.setenv("BAMNET_LOAD_PLUGINS", "")
    monkeypatch.delenv("BAMNET_DEBUG", raising=False)
    monkeypatch.delenv("BAMNET_TRACE_PLUGINS", raising=False)
    monkeypatch.delenv("TF_CONFIG", raising=False)  # a developer's cluster never joins in
    cache = tmp_path_factory.getbasetemp() / "bamnet-cache"
    monkeypatch.setenv("BAMNET_CACHE_DIR", str(cache))
    # the pseudonym key file (redacted reports, the dicom source) never lands in ~/.config
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))
    monkeypatch.delenv("BAMNET_PSEUDONYM_KEY", raising=False)
    # export times each model on a few batches, not the 10 s each a user's export spends
    from bamnet_core.export import speed

    monkeypatch.setattr(speed, "DEFAULT_BUDGET", speed.SpeedBudget(images=16, seconds=0.0,
                                                                    rounds=2))


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


@pytest.fixture
def install_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``install_fake(dist, source, entry_point)``: an installed-looking plugin distribution.

    The fake is importable and declares a ``bamnet`` entry point; ``BAMNET_LOAD_PLUGINS``
    is set to load the fakes installed so far (``load=False`` installs one without loading
    it). Their modules are forgotten afterwards.
    """
    site = tmp_path / "fake-site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []
    loaded: list[str] = []

    def install(dist: str, source: str, entry_point: str, *, load: bool = True) -> None:
        write_fake_distribution(site, dist, source, entry_point)
        modules.append(dist.replace("-", "_"))
        if load:
            loaded.append(entry_point)
        monkeypatch.setenv("BAMNET_LOAD_PLUGINS", ",".join(loaded))

    yield install
    for module in modules:
        sys.modules.pop(module, None)
