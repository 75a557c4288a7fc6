"""The command line as a user meets it: listings, and one clear error per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_dist import write_fake_distribution

from bamnet_core import __version__


def assert_one_clear_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert any(ln.startswith("Hint:") for ln in lines), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"bamnet {__version__}"


def test_plugins_all_json_lists_builtins_with_hooks(cli):
    result = cli("plugins", "--all", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    by_name = {p["name"]: p for p in data}
    assert by_name["bamnet_paper.backbones"]["hooks"] == ["register_backbones"]
    assert set(by_name["bamnet_paper.sources"]["components"]["dataset_source"]) == {
        "synthetic-cxr", "image-folder", "manifest-csv", "cohen-covid", "covid-radiography-db",
        "kermany-cxr", "dicom"}
    assert all(p["builtin"] and p["status"] == "ok" for p in data)


def test_plugins_table_piped_keeps_whole_names(cli):
    # stdout here is not a terminal, as with `bamnet plugins --all | less`
    shown = cli("plugins", "--all").stdout
    assert "…" not in shown
    for name in ("bamnet_paper.sources", "bamnet_paper.evaluators", "register_dataset_sources",
                 "covid-radiography-db"):
        assert name in shown
    assert "bamnet_paper.sources" in next(line for line in shown.splitlines()
                                          if "register_dataset_sources" in line)


def test_plugins_without_all_hides_builtins(cli):
    result = cli("plugins", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_presets_list_shows_quickstart(cli):
    result = cli("presets", "list")
    assert result.exit_code == 0 and "quickstart" in result.stdout
    rows = json.loads(cli("presets", "list", "--json").stdout)
    assert any(r["name"] == "quickstart" and r["path"].endswith(".toml") for r in rows)


def test_presets_show(cli):
    raw = cli("presets", "show", "quickstart")
    assert raw.exit_code == 0 and 'source = "synthetic-cxr"' in raw.stdout
    resolved = cli("presets", "show", "quickstart", "--resolved")
    assert "beta_2 = 0.999" in resolved.stdout


def test_bad_preset_name(cli):
    assert_one_clear_error(cli("run", "quikstart"), "'quikstart'", "quickstart")


def test_unknown_config_key(cli, tiny_config: Path):
    tiny_config.write_text(tiny_config.read_text() + "learning_rate = 0.1\n")
    assert_one_clear_error(cli("run", str(tiny_config)), str(tiny_config),
                           "[train] learning_rate", "unknown key")


def test_wrong_type(cli, tiny_config: Path):
    assert_one_clear_error(cli("run", str(tiny_config), "--set", "train.batch_size=big"),
                           "--set train.batch_size", "expected an integer")


def test_usage_error_exits_2(cli):
    result = cli("run")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_broken_third_party_plugin(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   tiny_config: Path):
    site = tmp_path / "site"
    site.mkdir()
    write_fake_distribution(site, "bamnet-fake-explodes", """
from bamnet_core.contract import hookimpl

@hookimpl
def register_backbones(register):
    raise ValueError("weights table corrupt")
""", "fake-explodes")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("BAMNET_LOAD_PLUGINS", "fake-explodes")
    run = cli("run", str(tiny_config), "--output-dir", str(tmp_path / "runs"))
    assert_one_clear_error(run, "bamnet-fake-explodes", "register_backbones",
                           "weights table corrupt", "BAMNET_LOAD_PLUGINS")
    assert not (tmp_path / "runs").exists()  # nothing half-written
    listing = cli("plugins", "--json")
    assert listing.exit_code == 0
    (entry,) = json.loads(listing.stdout)
    assert entry["status"] == "broken" and "register_backbones" in entry["error"]
    shown = cli("presets", "list")
    assert shown.exit_code == 0 and "Warning:" in shown.stderr


def test_debug_env_shows_traceback(monkeypatch: pytest.MonkeyPatch):
    from bamnet_core.cli import main
    from bamnet_core.errors import ConfigError

    monkeypatch.setenv("BAMNET_DEBUG", "1")
    with pytest.raises(ConfigError):
        main(["run", "no-such-preset"])
