"""``bamnet install`` / ``uninstall`` run pip in bamnet's own interpreter."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture
def pip_calls(monkeypatch: pytest.MonkeyPatch):
    calls: list[list[str]] = []
    status = {"code": 0}

    def fake_call(cmd):
        calls.append(cmd)
        return status["code"]

    monkeypatch.setattr("bamnet_core.plugins.installer.subprocess.call", fake_call)
    return calls, status


def test_install_uses_this_environments_pip(cli, pip_calls):
    calls, _ = pip_calls
    result = cli("install", "bamnet-foo", "--upgrade")
    assert result.exit_code == 0, result.stderr
    assert calls == [[sys.executable, "-m", "pip", "install", "--upgrade", "bamnet-foo"]]


def test_install_editable(cli, pip_calls, tmp_path):
    calls, _ = pip_calls
    assert cli("install", "-e", str(tmp_path)).exit_code == 0
    assert calls[0][-2:] == ["--editable", str(tmp_path)]


def test_uninstall_does_not_prompt(cli, pip_calls):
    calls, _ = pip_calls
    assert cli("uninstall", "bamnet-foo").exit_code == 0
    assert calls == [[sys.executable, "-m", "pip", "uninstall", "--yes", "bamnet-foo"]]


def test_pip_failure_is_one_clear_error(cli, pip_calls):
    _, status = pip_calls
    status["code"] = 1
    result = cli("install", "bamnet-does-not-exist")
    assert result.exit_code == 1
    assert "Error: pip exited with status 1: install bamnet-does-not-exist" in result.stderr
    assert "Hint:" in result.stderr and "Traceback" not in result.stderr


def test_install_needs_something(cli, pip_calls):
    result = cli("install")
    assert result.exit_code == 1 and "nothing to install" in result.stderr


@pytest.mark.parametrize("name", ["bamnet", "BAMNET", "bamnet[test]", "pip"])
def test_uninstalling_bamnet_itself_is_refused(cli, pip_calls, name):
    calls, _ = pip_calls
    result = cli("uninstall", "bamnet-foo", name)
    assert result.exit_code == 1 and "refusing to uninstall" in result.stderr
    assert "python -m pip uninstall" in result.stderr
    assert calls == []  # nothing was uninstalled, not even the plugin named first
