"""``bamnet run PRESET --data PATH`` from every preset: an image folder, a dataset folder, a
manifest; what it saw when it recognises none; and the phantom source's work bounds."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from bamnet_core.config.load import load_config
from bamnet_core.data.sources import detect_source
from bamnet_core.plugins import load_plugins

PRESETS = ["quickstart", "quickstart-gan", "paper-base", "paper-config", "paper-config-fixed"]


def image_folder(root: Path) -> Path:
    for label in ("normal", "covid"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(root / label / f"{i}.png"), np.full((16, 16), i * 40, np.uint8))
    return root


def dataset_folder(root: Path) -> Path:
    image_folder(root / "images")
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label", "patient_id"])
        for label in ("normal", "covid"):
            for i in range(3):
                writer.writerow([f"images/{label}/{i}.png", label, f"{label}-{i}"])
    return root


@pytest.fixture(scope="module")
def registry():
    return load_plugins().registry


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("form", ["image folder", "dataset folder", "manifest"])
def test_every_preset_takes_every_form_of_data(tmp_path, registry, preset, form):
    if form == "image folder":
        path, expected = image_folder(tmp_path / "xrays"), "image-folder"
    else:
        path, expected = dataset_folder(tmp_path / "ds"), "manifest-csv"
        if form == "manifest":
            path = path / "manifest.csv"
    source = detect_source(path, registry)
    weights = [] if preset.startswith("quickstart") else ["backbone.weights=none"]
    config = load_config(preset, registry, data=source, overrides=weights)
    assert config.document["data"]["source"] == expected
    samples = config.components.source.samples()
    assert sorted({s.label for s in samples}) == ["covid", "normal"] and len(samples) == 6


def test_an_image_folder_through_the_cli(cli, tmp_path):
    folder = image_folder(tmp_path / "xrays")
    result = cli("run", "quickstart", "--data", str(folder), "--until", "data",
                 "-o", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.stderr


def test_unrecognised_data_names_what_it_saw(cli, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    cv2.imwrite(str(flat / "a.png"), np.zeros((8, 8), np.uint8))
    (flat / "empty").mkdir()
    result = cli("run", "quickstart", "--data", str(flat))
    assert result.exit_code == 1
    assert "a folder with 1 image file(s) at its top level and 1 sub-folder(s)" in result.stderr
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    result = cli("run", "quickstart", "--data", str(table))
    assert result.exit_code == 1 and "a CSV whose header is 'a,b'" in result.stderr


@pytest.mark.parametrize("key, value", [("patients_per_class", 100_000_000_000),
                                        ("max_images_per_patient", 1000),
                                        ("size", 100_000)])
def test_the_phantom_source_bounds_the_work_it_is_asked_for(cli, key, value):
    result = cli("run", "quickstart", "--set", f"data.{key}={value}")
    assert result.exit_code == 1
    assert f"data.{key}: must be less than or equal to" in result.stderr
