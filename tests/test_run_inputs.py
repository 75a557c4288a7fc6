"""What a run reads: the paper presets' three sources, ``--data PATH``, and missing inputs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from audit_datasets import leaky_dataset


@pytest.fixture
def nothing_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty BAMNET_DATA, an empty Keras cache and no network."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("BAMNET_DATA", str(data))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("BAMNET_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    return data


def test_missing_data_and_weights_are_one_error_naming_every_fix(cli, nothing_here: Path):
    result = cli("run", "paper-config")
    assert result.exit_code == 1 and result.stderr.count("Error:") == 1
    error, hint = result.stderr.strip().splitlines()[:2]
    assert "4 input(s) this run needs are missing" in error
    for folder in ("covid-chestxray-dataset", "COVID-19_Radiography_Dataset", "chest_xray"):
        assert str(nothing_here / folder) in error
    assert "VGG16 ImageNet weights" in error
    for name in ("cohen-covid", "covid-radiography-db", "kermany-cxr"):
        assert f"bamnet data fetch {name} --dest {nothing_here}" in hint
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in hint and "--data PATH" in hint
    assert "Traceback" not in result.stderr and not (nothing_here.parent / "runs").exists()


def test_only_what_is_missing_is_named(cli, nothing_here: Path):
    (nothing_here / "chest_xray").mkdir()
    result = cli("run", "paper-config-fixed", "--set", "backbone.weights=none")
    assert result.exit_code == 1
    assert "2 input(s) this run needs are missing" in result.stderr
    assert "kermany-cxr" not in result.stderr and "VGG16" not in result.stderr


def test_data_points_a_preset_at_a_manifest(cli, nothing_here: Path, tmp_path: Path):
    manifest = leaky_dataset(tmp_path / "mine", n=12)
    result = cli("run", "quickstart", "--data", str(manifest), "--until", "audit",
                 "--set", "generator.enabled=false", "-o", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    data = tomllib.loads((run_dir / "config.toml").read_text())["data"]
    assert data["source"] == "manifest-csv" and Path(data["path"]) == manifest
    assert data["classes"] == ["normal", "covid"] and "patients_per_class" not in data
    assert (run_dir / "splits.csv").read_text().count("\n") == 25  # header + 24 images


def test_data_that_is_not_there_or_not_data_is_one_error(cli, tmp_path: Path):
    gone = cli("run", "quickstart", "--data", str(tmp_path / "nope.csv"))
    assert gone.exit_code == 1 and "--data" in gone.stderr and "not found" in gone.stderr
    (tmp_path / "notes.txt").write_text("hello")
    odd = cli("run", "quickstart", "--data", str(tmp_path / "notes.txt"))
    assert odd.exit_code == 1 and "no dataset source recognises" in odd.stderr
    refused = cli("run", "--resume", str(tmp_path), "--data", str(tmp_path))
    assert refused.exit_code == 2 and "--data" in refused.stderr
