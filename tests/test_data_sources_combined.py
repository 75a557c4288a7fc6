"""Several sources as one dataset: [[data.sources]] tables."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bamnet_core.config.load import load_config
from bamnet_core.data.sources import collect_configured
from bamnet_core.errors import ConfigError
from bamnet_core.plugins import load_plugins
from bamnet_core.runs import layout


@pytest.fixture(scope="module")
def registry():
    return load_plugins({"BAMNET_LOAD_PLUGINS": ""}).registry


def _folder(root: Path, seed: int, per_class: int = 6) -> Path:
    rng = np.random.default_rng(seed)
    for label, level in (("covid", 150), ("normal", 70)):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = rng.normal(level, 25, (40, 40)).clip(0, 255).astype(np.uint8)
            cv2.imwrite(str(root / label / f"{i}.png"), image)
    return root


def _config(tmp_path: Path, sources: str, extra: str = "") -> Path:
    path = tmp_path / "multi.toml"
    path.write_text(f"""
[run]
name = "multi"
[data]
classes = ["normal", "covid"]
positive = "covid"
{extra}
{sources}
[preprocess]
size = 16
channels = 1
[backbone]
name = "small-cnn"
filters = [4]
dense = 4
[train]
epochs = 1
batch_size = 8
""", encoding="utf-8")
    return path


TWO = """
[[data.sources]]
source = "image-folder"
id = "site-a"
root = "a"
patient_pattern = "^(\\\\d+)"

[[data.sources]]
source = "image-folder"
id = "site-b"
root = "b"
patient_pattern = "^(\\\\d+)"
"""


def test_two_sources_combine_with_unique_patients(registry, tmp_path: Path):
    _folder(tmp_path / "a", 0)
    _folder(tmp_path / "b", 1)
    config = load_config(str(_config(tmp_path, TWO)), registry)
    assert [s["root"] for s in config.data.sources] == [str(tmp_path / "a"),
                                                              str(tmp_path / "b")]
    samples, notes = collect_configured(config.components, ["normal", "covid"])
    assert len(samples) == 24 and notes == []
    # both folders number their files 0..5: the ids must still differ across sites
    patients = {s.patient_id for s in samples}
    assert "site-a:a-0" in patients and "site-b:b-0" in patients
    assert len(patients) == 12


def test_a_combined_run_audits_files_listed_twice(cli, tmp_path: Path):
    _folder(tmp_path / "a", 0)
    twice = TWO.replace('root = "b"', 'root = "a"')
    result = cli("run", str(_config(tmp_path, twice)), "--json",
                 "--output-dir", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.stderr
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    audit = json.loads((run_dir / layout.AUDIT).read_text())
    assert audit["images"] == 12
    assert any("already listed by 'site-a'" in w for w in audit["warnings"])


@pytest.mark.parametrize("sources, extra, message", [
    (TWO, 'source = "image-folder"', "either [data] source"),
    ('[[data.sources]]\nroot = "a"\n', "", "needs source = NAME"),
    (TWO.replace('id = "site-b"', 'id = "site-a"'), "", "id 'site-a' is used twice"),
    (TWO.replace('id = "site-b"', 'id = "site-b"\ncolour = 1'), "",
     "[data.sources[1]] colour: unknown key"),
    ("", "", "name a dataset source, or list several"),
])
def test_bad_source_lists_are_refused(registry, tmp_path: Path, sources, extra, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(str(_config(tmp_path, sources, extra)), registry)


def test_preset_paths_resolve_against_bamnet_data(tmp_path: Path, monkeypatch):
    from bamnet_core.contract import hookimpl

    preset = tmp_path / "presets" / "site.toml"
    preset.parent.mkdir()
    preset.write_text('[data]\nsource = "manifest-csv"\npath = "lists/m.csv"\n'
                      'classes = ["normal", "covid"]\npositive = "covid"\n'
                      '[backbone]\nname = "small-cnn"\n', encoding="utf-8")

    class Presets:
        @hookimpl
        def register_presets(self, register):
            register("site", preset)

    registry = load_plugins({"BAMNET_LOAD_PLUGINS": ""}, extra=(("p", Presets()),)).registry
    monkeypatch.setenv("BAMNET_DATA", str(tmp_path / "data"))
    assert load_config("site", registry).document["data"]["path"] == \
        str(tmp_path / "data/lists/m.csv")
    monkeypatch.delenv("BAMNET_DATA")
    monkeypatch.chdir(tmp_path)
    assert load_config("site", registry).document["data"]["path"] == str(tmp_path / "lists/m.csv")
    # the same file named by its path: relative to its own folder
    assert load_config(str(preset), registry).document["data"]["path"] == \
        str(tmp_path / "presets/lists/m.csv")
