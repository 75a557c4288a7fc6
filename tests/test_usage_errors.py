"""A command line that cannot be parsed is one ``Error:`` line naming ``--help``, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(("argv", "says", "help_of"), [
    (["score"], "Missing argument 'MODEL'", "bamnet score"),
    (["score", "m.onnx", "imgs", "--bogus"], "No such option: --bogus", "bamnet score"),
    (["score", "m.onnx", "imgs", "--batch-size", "many"], "Invalid value for '--batch-size'",
     "bamnet score"),
    (["scor"], "No such command 'scor'", "bamnet"),
    (["--bogus"], "No such option: --bogus", "bamnet"),
    (["presets", "nosuch"], "No such command 'nosuch'", "bamnet presets"),
])
def test_a_usage_error_is_one_error_line_with_the_help_hint(cli, argv, says, help_of):
    result = cli(*argv)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: " + says), lines[0]
    assert lines[0].endswith(f"see '{help_of} --help'"), lines[0]
    assert not result.stdout


def test_the_real_command_prints_no_panel_for_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "bamnet_core", "score", "--bogus"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: No such option: --bogus (Possible options: --no-uids, --uids); "
        "see 'bamnet score --help'"], done.stderr
    assert "Usage:" not in done.stderr and "╭" not in done.stderr


def test_bamnet_alone_still_shows_the_help():
    done = subprocess.run([sys.executable, "-m", "bamnet_core"], capture_output=True,
                          text=True, timeout=120)
    assert "Usage: bamnet" in done.stdout + done.stderr
    assert "Error:" not in done.stderr
