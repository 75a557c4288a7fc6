"""`bamnet plugins new`: the written distribution is complete, and its own tests pass."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


def _run_its_tests(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get(
        "PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "-p", "no:cacheprovider", str(root / "tests")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize("kind", ["backbone", "source", "evaluator"])
def test_plugins_new_writes_a_complete_distribution(cli, tmp_path: Path, kind: str):
    result = cli("plugins", "new", "demo", "--kind", kind, "--dest", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    root = tmp_path / "bamnet-demo"
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "bamnet-demo"
    assert meta["project"]["entry-points"]["bamnet"] == {"demo": "bamnet_demo"}
    assert meta["tool"]["setuptools"]["package-data"]["bamnet_demo"] == ["presets/*.toml"]
    for part in ("bamnet_demo/__init__.py", "bamnet_demo/component.py",
                 "bamnet_demo/presets/demo.toml", "tests/test_bamnet_demo.py", "README.md"):
        assert (root / part).is_file(), part
    again = cli("plugins", "new", "demo", "--dest", str(tmp_path))
    assert again.exit_code == 1 and "already exists and is not empty" in again.stderr


def test_the_evaluator_template_passes_its_own_tests(cli, tmp_path: Path):
    assert cli("plugins", "new", "demo-ev", "--kind", "evaluator",
               "--dest", str(tmp_path)).exit_code == 0
    done = _run_its_tests(tmp_path / "bamnet-demo-ev")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 passed, 1 skipped" in done.stdout  # the install check skips: not installed here


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["backbone", "source"])
def test_the_other_templates_pass_their_own_tests(cli, tmp_path: Path, kind: str):
    assert cli("plugins", "new", "demo", "--kind", kind, "--dest", str(tmp_path)).exit_code == 0
    done = _run_its_tests(tmp_path / "bamnet-demo")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


@pytest.mark.parametrize("argv, message", [
    (["plugins", "new", "Bad_Name"], "is not lower case letters, digits and dashes"),
    (["plugins", "new", "ok", "--kind", "generator"], "--kind 'generator' is not one of"),
])
def test_plugins_new_refuses_bad_input(cli, tmp_path: Path, argv, message):
    result = cli(*argv, "--dest", str(tmp_path))
    assert result.exit_code == 1 and message in result.stderr
    assert not any(tmp_path.iterdir())


def test_a_name_that_ends_in_the_kind_is_not_doubled():
    from bamnet_core.plugins.template import class_name, component_name

    assert component_name("my-net", "net") == "my-net" and class_name("my-net", "Net") == "MyNet"
    assert component_name("foo", "net") == "foo-net" and class_name("foo", "Net") == "FooNet"
    assert component_name("subnet", "net") == "subnet-net"  # only a whole last word counts
