"""The fast paths import only what they use; the lazy command table matches the commands."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_fixtures import write_tiny_model

ROOT = Path(__file__).parents[1]
HEAVY = ("scipy", "sklearn", "matplotlib", "cleanlab", "tensorflow", "keras", "tf2onnx",
         "ray", "pandas", "highdicom", "pynetdicom")  # the last two: only --sr and listen


def _modules_after(argv: list[str]) -> dict:
    """Run ``bamnet ARGV`` in a fresh interpreter; its exit code and the heavy modules loaded."""
    script = textwrap.dedent(f"""
        import json, sys
        from bamnet_core.cli import main
        code = 0
        try:
            main({argv!r})
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({{"code": code,
                          "heavy": [m for m in {HEAVY!r} if m in sys.modules],
                          "commands": sorted(m for m in sys.modules
                                             if m.startswith("bamnet_core.cli.")
                                             and m.endswith("_command"))}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_no_command_module_and_nothing_heavy():
    report = _modules_after(["--help"])
    assert report == {"code": 0, "heavy": [], "commands": []}


def test_presets_list_imports_only_its_own_command():
    report = _modules_after(["presets", "list", "--json"])
    assert report == {"code": 0, "heavy": [], "commands": ["bamnet_core.cli.presets_command"]}


def test_score_imports_only_its_own_command(tmp_path):
    model = write_tiny_model(tmp_path / "m.onnx")
    image = tmp_path / "one.png"
    cv2.imwrite(str(image), np.full((8, 8), 90, np.uint8))
    report = _modules_after(["score", str(model), str(image), "--json"])
    assert report == {"code": 0, "heavy": [], "commands": ["bamnet_core.cli.score_command"]}


def test_a_failing_score_still_imports_nothing_heavy(tmp_path):
    report = _modules_after(["score", str(tmp_path / "missing.onnx"), str(tmp_path)])
    assert report["code"] == 1 and report["heavy"] == []


def test_the_table_matches_every_builtin_command():
    import typer

    from bamnet_core.cli.lazy_commands import BUILTIN_COMMANDS, load_module_commands
    from bamnet_core.cli.state import CLIState
    from bamnet_core.plugins import load_plugins

    state = CLIState(host=load_plugins({"BAMNET_LOAD_PLUGINS": ""}))
    real: dict[str, tuple[str, object]] = {}
    for module in dict.fromkeys(c.module for c in BUILTIN_COMMANDS):
        for name, command in load_module_commands(module, state).items():
            real[name] = (module, command)
    assert sorted(real) == sorted(c.name for c in BUILTIN_COMMANDS)
    for entry in BUILTIN_COMMANDS:
        module, command = real[entry.name]
        assert module == entry.module, entry.name
        assert inspect.cleandoc(command.help or "").split("\n\n")[0] == entry.help, entry.name
        assert isinstance(command, typer.core.TyperCommand | typer.core.TyperGroup)


@pytest.mark.parametrize("argv", [["run", "--help"], ["presets", "--help"], ["data", "--help"]])
def test_a_lazy_command_resolves_with_its_own_help(argv):
    from typer.testing import CliRunner

    from bamnet_core.cli import build_app

    result = CliRunner().invoke(build_app(), argv)
    assert result.exit_code == 0, result.output
    assert "Usage: bamnet " + argv[0] in " ".join(result.output.split())


def test_an_unknown_command_is_still_a_usage_error():
    from typer.testing import CliRunner

    from bamnet_core.cli import build_app

    result = CliRunner().invoke(build_app(), ["scor"])
    assert result.exit_code == 2
    assert "No such command 'scor'" in result.output
