"""Config resolution, validation and overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bamnet_core.config.load import load_config
from bamnet_core.config.overrides import parse_assignment
from bamnet_core.errors import ConfigError, UnknownComponentError
from bamnet_core.plugins import load_plugins


@pytest.fixture(scope="module")
def registry():
    return load_plugins({"BAMNET_LOAD_PLUGINS": ""}).registry


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_preset_name_resolves_and_fills_defaults(registry):
    cfg = load_config("quickstart", registry)
    assert cfg.backbone.name == "small-cnn"
    assert cfg.train.optimizer.beta_2 == 0.999  # default filled in
    assert cfg.document["data"]["opacity"] == 1.0  # component default filled in
    assert cfg.origin.endswith("quickstart.toml")


def test_path_resolves(registry, tiny_config: Path):
    assert load_config(str(tiny_config), registry).run.name == "tiny"


def test_unknown_preset_lists_known(registry):
    with pytest.raises(ConfigError, match="quickstart") as info:
        load_config("no-such-preset", registry)
    assert "presets list" in info.value.hint


def test_unknown_core_key_names_file_section_and_accepted(registry, tiny_config: Path):
    path = tiny_config
    path.write_text(path.read_text() + "epoch = 3\n")  # [train] is the last section
    with pytest.raises(ConfigError) as info:
        load_config(str(path), registry)
    msg = info.value.message
    assert str(path) in msg and "[train] epoch" in msg and "epochs" in msg


def test_unknown_component_key_lists_what_component_accepts(registry, tiny_config: Path):
    with pytest.raises(ConfigError) as info:
        load_config(str(tiny_config), registry, overrides=["backbone.filtres=[1]"])
    msg = info.value.message
    assert "--set backbone.filtres" in msg and "small-cnn" in msg and "filters" in msg


def test_wrong_type_names_key_and_expected_type(registry, tiny_config: Path):
    text = tiny_config.read_text().replace("epochs = 2", 'epochs = "two"')
    tiny_config.write_text(text)
    with pytest.raises(ConfigError, match=r"\[train\] epochs: expected an integer, got 'two'"):
        load_config(str(tiny_config), registry)


def test_missing_required_value(registry, tmp_path: Path):
    path = write(tmp_path, "[data]\nsource = 'synthetic-cxr'\nclasses=['a','b']\n"
                           "[backbone]\nname='small-cnn'\n")
    with pytest.raises(ConfigError, match=r"\[data\] positive: required key is missing"):
        load_config(str(path), registry)


def test_unknown_component_lists_registered(registry, tiny_config: Path):
    with pytest.raises(UnknownComponentError, match="registered: small-cnn"):
        load_config(str(tiny_config), registry, overrides=["backbone.name=resnet"])


def test_unknown_section(registry, tmp_path: Path):
    path = write(tmp_path, "[trian]\nepochs = 1\n")
    with pytest.raises(ConfigError, match=r"\[trian\]: unknown section \(did you mean 'train'\?\)"):
        load_config(str(path), registry)


def test_invalid_toml_names_file(registry, tmp_path: Path):
    path = write(tmp_path, "[run\nname=")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(str(path), registry)


def test_set_overrides_with_type_coercion(registry, tiny_config: Path):
    cfg = load_config(str(tiny_config), registry, overrides=[
        "train.epochs=5", "train.optimizer.lr=1e-4", "backbone.filters=[2, 4, 8]",
        "run.name=renamed", "split.by=image"], seed=11)
    assert cfg.train.epochs == 5
    assert cfg.train.optimizer.lr == pytest.approx(1e-4)
    assert cfg.document["backbone"]["filters"] == [2, 4, 8]
    assert cfg.run.name == "renamed" and cfg.run.seed == 11
    assert cfg.split.by == "image"


def test_int_is_accepted_for_float(registry, tiny_config: Path):
    cfg = load_config(str(tiny_config), registry, overrides=["train.optimizer.lr=1"])
    assert cfg.train.optimizer.lr == 1.0 and isinstance(
        cfg.train.optimizer.lr, float)


def test_bad_set_syntax(registry, tiny_config: Path):
    with pytest.raises(ConfigError, match="--set 'epochs': expected key=value"):
        load_config(str(tiny_config), registry, overrides=["epochs"])  # no '=' at all


def test_semantic_checks(registry, tiny_config: Path):
    with pytest.raises(ConfigError, match="data.positive|positive"):
        load_config(str(tiny_config), registry, overrides=["data.positive=flu"])
    with pytest.raises(ConfigError, match="val \\+ test"):
        load_config(str(tiny_config), registry, overrides=["split.val=0.6", "split.test=0.5"])
    with pytest.raises(ConfigError, match="expected 'patient' or 'image', got 'site'"):
        load_config(str(tiny_config), registry, overrides=["split.by=site"])


def test_resolved_toml_round_trips(registry, tiny_config: Path, tmp_path: Path):
    cfg = load_config(str(tiny_config), registry, overrides=["train.epochs=4"])
    again_path = tmp_path / "resolved.toml"
    again_path.write_text(cfg.to_toml())
    again = load_config(str(again_path), registry)
    assert again.document == cfg.document
    assert tomllib.loads(cfg.to_toml())["train"]["epochs"] == 4


def test_parse_assignment_keeps_plain_strings():
    assert parse_assignment("data.root=/some/path") == (["data", "root"], "/some/path")
    assert parse_assignment("a.b=true") == (["a", "b"], True)


def test_bool_is_not_an_integer(registry, tiny_config: Path):
    with pytest.raises(ConfigError, match=r"--set train.epochs: expected an integer, got True"):
        load_config(str(tiny_config), registry, overrides=["train.epochs=true"])


def test_options_for_an_evaluator_that_does_not_run_are_refused(registry, tiny_config: Path):
    with pytest.raises(ConfigError, match=r"evaluate\.options\.gradcm.*not in evaluate"):
        load_config(str(tiny_config), registry, overrides=["evaluate.options.gradcm={images = 3}"])
