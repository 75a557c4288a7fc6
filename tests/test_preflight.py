"""One preflight for run, resume, ablate and loso: refused before any folder or data listing.

The data comes from a source whose ``samples()`` fails loudly, so a mode that lists the
data before its checks fails these tests with that source's message instead of the check's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bamnet_core.runs import layout

LOUD_SOURCE = """
from bamnet_core.contract import hookimpl

class Loud:
    '''A dataset source that must never be listed in these tests.'''

    def __init__(self, *, root: str):
        self.root = root

    def samples(self):
        raise AssertionError("the data was listed before the preflight ended")

@hookimpl
def register_dataset_sources(register):
    register("loud", Loud)
"""

GENERATOR = """
[generator]
enabled = true
name = "dcgan"
balance_class = "covid"
ratio = 1.0
epochs = 1
size = 16
g_filters = 4
d_filters = 4
"""


def _config(tmp_path: Path, root: Path) -> Path:
    """A tiny run over the loud source (at ``root``), with a generator for ``ablate``."""
    from bamnet_testing import TINY_CONFIG

    text = TINY_CONFIG.replace('source = "synthetic-cxr"', f'source = "loud"\nroot = "{root}"')
    text = "\n".join(line for line in text.splitlines()
                     if not line.startswith(("patients_per_class", "max_images_per_patient",
                                             "size = 48")))
    path = tmp_path / "loud.toml"
    path.write_text(text + GENERATOR, encoding="utf-8")
    return path


def _resumable(tmp_path: Path, config: Path) -> Path:
    """A stopped run folder of ``config``, as ``bamnet run --until`` leaves it (no stage done)."""
    run_dir = tmp_path / "runs" / "stopped"
    run_dir.mkdir(parents=True)
    (run_dir / layout.CONFIG).write_text(config.read_text(encoding="utf-8"))
    (run_dir / layout.META).write_text(json.dumps({"status": "stopped", "stages": {}}))
    return run_dir


@pytest.fixture
def loud(install_fake, tmp_path: Path) -> Path:
    """The config over the loud source, its data folder present."""
    install_fake("bamnet-fake-loud", LOUD_SOURCE, "fake-loud")
    (tmp_path / "data").mkdir()
    return _config(tmp_path, tmp_path / "data")


MODES = ["run", "resume", "ablate", "loso"]


def _invoke(cli, mode: str, config: Path, out: Path, tmp_path: Path, *extra: str):
    """Run ``mode`` on ``config``; for resume, on a stopped folder of it."""
    if mode == "resume":
        return cli("resume", str(_resumable(tmp_path, config)), *extra)
    return cli(mode, str(config), "-o", str(out), *extra)


def _assert_refused(result, out: Path, tmp_path: Path, says: str) -> None:
    assert result.exit_code == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and says in result.stderr, result.stderr
    assert "listed before the preflight" not in result.stderr
    assert not out.exists()  # no folder made
    stopped = tmp_path / "runs" / "stopped"
    if stopped.exists():  # resume: the folder is as it was
        assert sorted(p.name for p in stopped.iterdir()) == sorted([layout.CONFIG, layout.META])
        assert json.loads((stopped / layout.META).read_text())["status"] == "stopped"


@pytest.mark.parametrize("mode", MODES)
def test_a_broken_plugin_is_refused_before_any_folder_or_listing(cli, loud: Path,
                                                                tmp_path: Path, install_fake,
                                                                mode: str):
    install_fake("bamnet-fake-broken", "import not_a_module_xyz\n", "fake-broken")
    result = _invoke(cli, mode, loud, tmp_path / "out", tmp_path)
    _assert_refused(result, tmp_path / "out", tmp_path, "bamnet-fake-broken")


@pytest.mark.parametrize("mode", MODES)
def test_a_missing_input_is_refused_before_any_folder_or_listing(cli, loud: Path,
                                                                tmp_path: Path, mode: str):
    (tmp_path / "data").rmdir()
    result = _invoke(cli, mode, loud, tmp_path / "out", tmp_path)
    _assert_refused(result, tmp_path / "out", tmp_path, "input(s) this run needs are missing")


@pytest.mark.parametrize(("mode", "option", "says"), [
    ("run", ("--until", "decode"), "--until 'decode': a run can stop after"),
    ("run", ("--until", "nonsense"), "--until 'nonsense'"),
    ("resume", ("--from", "train"), "--from 'train': a run folder can redo"),
])
def test_a_bad_stage_name_is_refused_before_any_folder_or_listing(cli, loud: Path,
                                                                 tmp_path: Path, mode: str,
                                                                 option: tuple[str, str],
                                                                 says: str):
    result = _invoke(cli, mode, loud, tmp_path / "out", tmp_path, *option)
    _assert_refused(result, tmp_path / "out", tmp_path, says)


def test_the_loud_source_does_fail_loudly_once_the_checks_pass(cli, loud: Path,
                                                               tmp_path: Path):
    result = cli("run", str(loud), "-o", str(tmp_path / "out"))
    assert result.exit_code != 0 and not (tmp_path / "out").exists()
    assert "listed before the preflight" in result.stderr
