"""Bad ``[generator]`` input is one ``Error:`` line before any training."""

from __future__ import annotations

import pytest
from gan_fixtures import tiny_gan_config

from bamnet_core.runs import layout
from bamnet_paper.generators import checkpoint as gan_checkpoint


@pytest.mark.parametrize(("override", "expected"), [
    ("generator.balance_class=pneumonia", "generator.balance_class: 'pneumonia' is not one of"),
    ("generator.ratio=1.5", "generator.ratio"),
    ("generator.ratio=0", "generator.ratio"),
    ("generator.count=0", "generator.count"),
    ("generator.size=48", "generator.size"),
    ("generator.label_smoothing=0.7", "generator.label_smoothing"),
    ("generator.augment=[\"rotate\"]", "generator.augment"),
])
def test_bad_generator_settings_fail_at_load_time(cli, tmp_path, override, expected):
    config = tmp_path / "gan.toml"
    config.write_text(tiny_gan_config(), encoding="utf-8")
    result = cli("run", str(config), "--set", override, "-o", str(tmp_path / "runs"))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.count("Error:") == 1 and expected in result.stderr
    assert not (tmp_path / "runs").exists()


def test_too_few_training_images_of_the_class_names_the_number_needed(cli, tmp_path):
    config = tmp_path / "gan.toml"
    config.write_text(tiny_gan_config(), encoding="utf-8")
    result = cli("run", str(config), "--set", "generator.min_images=40",
                 "-o", str(tmp_path / "runs"))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.count("Error:") == 1
    assert "dcgan needs at least 40 training images of 'covid'; the training split has" \
        in result.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    assert not (run_dir / layout.GENERATOR / gan_checkpoint.FOLDER).exists()
    assert not (run_dir / layout.MODEL).exists()
