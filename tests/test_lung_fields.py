"""Lung fields: the config section, the user's masks, and fields for model inputs and images."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from bamnet_core.config.load import load_config
from bamnet_core.contract import LungFieldEstimator, PreprocessSpec
from bamnet_core.data.lung_fields import LungFields, UserMasks, dilated, run_lung_fields
from bamnet_core.errors import ConfigError, DataError
from bamnet_core.plugins import load_plugins


@pytest.fixture(scope="module")
def registry():
    return load_plugins({"BAMNET_LOAD_PLUGINS": ""}).registry


class Band:
    """A throwaway estimator: rows 25-75%, every column."""

    def estimate(self, image: np.ndarray) -> np.ndarray:
        field = np.zeros(image.shape, dtype=bool)
        h = image.shape[0]
        field[h // 4:3 * h // 4] = True
        return field


def _write_mask(path: Path, shape: tuple[int, int], box: tuple[int, int, int, int]) -> None:
    mask = np.zeros(shape, dtype=np.uint8)
    top, bottom, left, right = box
    mask[top:bottom, left:right] = 255
    cv2.imwrite(str(path), mask)


def test_a_run_uses_the_built_in_estimator_unless_its_config_names_another(registry,
                                                                          tiny_config: Path):
    config = load_config(str(tiny_config), registry)
    assert config.lungs.estimator == "anatomical"
    assert config.document["lungs"]["estimator"] == "anatomical"  # recorded in config.toml
    assert isinstance(config.components.lungs, LungFieldEstimator)
    with pytest.raises(ConfigError) as info:
        load_config(str(tiny_config), registry, overrides=["lungs.estimator=anatomic"])
    assert "lungs.estimator" in info.value.message and "anatomical" in info.value.message


def test_lungs_section_names_the_key_it_refuses(registry, tiny_config: Path):
    with pytest.raises(ConfigError, match="lungs.column") as info:
        load_config(str(tiny_config), registry, overrides=["lungs.column=mask"])
    assert "set [lungs] masks" in info.value.message
    with pytest.raises(ConfigError, match=r"\[lungs\] column: name the column"):
        load_config(str(tiny_config), registry, overrides=["lungs.masks=masks.csv"])
    with pytest.raises(ConfigError, match="lungs.colour"):
        load_config(str(tiny_config), registry, overrides=["lungs.colour=1"])
    config = load_config(str(tiny_config), registry, overrides=["lungs.masks=my-masks"])
    assert Path(config.lungs.masks).is_absolute()  # resolved, so config.toml reruns anywhere
    with pytest.raises(DataError, match=r"\[lungs\] masks: .*my-masks is not a folder"):
        run_lung_fields(config)


def test_fields_of_model_inputs_are_the_estimators_on_the_grey_image():
    spec = PreprocessSpec(size=64, channels=3, scaling="caffe")
    gray = np.random.default_rng(0).uniform(0, 1, (80, 100)).astype(np.float32)
    inputs = np.stack([spec.apply(gray), spec.apply(gray[::-1])])
    fields = LungFields(Band()).for_inputs(inputs, spec)
    assert fields.shape == (2, 64, 64) and fields.dtype == bool
    assert fields[:, 16:48].all() and not fields[:, :16].any()


def test_a_users_mask_is_resized_and_padded_as_its_image(tmp_path: Path):
    masks = tmp_path / "masks"
    masks.mkdir()
    _write_mask(masks / "chest1.png", (100, 200), (0, 100, 0, 100))  # the left half
    spec = PreprocessSpec(size=64, channels=1, aspect="pad")
    image = np.zeros((100, 200), dtype=np.float32)
    lungs = LungFields(Band(), UserMasks(masks))
    fields = lungs.for_inputs(np.stack([spec.apply(image)] * 2), spec,
                              paths=["/data/a/chest1.jpg", "/data/b/chest2.jpg"])
    # padded: the 100 x 200 image fills rows 16-48 of 64; its mask's left half goes with it
    assert fields[0, 16:48, :32].all() and not fields[0, :16].any()
    assert not fields[0, 16:48, 33:].any()
    assert fields[1].sum() == Band().estimate(np.zeros((64, 64))).sum()  # no mask: estimated
    full = lungs.for_image(np.zeros((50, 100), dtype=np.float32), "x/chest1.dcm")  # by stem
    assert full.shape == (50, 100) and full[:, :50].all() and not full[:, 51:].any()
    with pytest.raises(DataError, match=r"chest1.png is 200 x 100 pixels, its image .* 100 x 100"):
        lungs.for_image(np.zeros((100, 100), dtype=np.float32), "chest1.jpg")
    named = LungFields(Band(), UserMasks(masks), name="anatomical")
    assert named.describe(["a/chest1.jpg", "b/chest2.jpg"]) == (
        "lung fields from your masks for 1 of 2 images, the rest estimated by 'anatomical'")
    assert named.describe(["b/chest2.jpg"]) == "lung fields estimated by 'anatomical'"


def test_masks_named_by_a_manifest_column(tmp_path: Path):
    _write_mask(tmp_path / "m1.png", (40, 40), (10, 30, 10, 30))
    (tmp_path / "masks.csv").write_text("path,lung_mask\nimages/a.png,m1.png\nimages/b.png,\n")
    masks = UserMasks(tmp_path / "masks.csv", "lung_mask")
    assert masks.mask_path(tmp_path / "images" / "a.png") == tmp_path / "m1.png"
    assert masks.mask_path(tmp_path / "images" / "b.png") is None
    field = LungFields(None, masks).for_image(np.zeros((40, 40)), tmp_path / "images" / "a.png")
    assert field.sum() == 400
    with pytest.raises(DataError, match="no lung mask for .*b.png"):
        LungFields(None, masks).for_image(np.zeros((40, 40)), tmp_path / "images" / "b.png")
    with pytest.raises(DataError, match="has no column 'mask'"):
        UserMasks(tmp_path / "masks.csv", "mask")


def test_a_mask_that_does_not_decode_is_named(tmp_path: Path):
    (tmp_path / "chest.png").write_bytes(b"not a png")
    lungs = LungFields(Band(), UserMasks(tmp_path))
    with pytest.raises(DataError, match=r"\[lungs\] masks: .*chest.png"):
        lungs.for_image(np.zeros((10, 10)), "chest.jpg")


def test_dilated_grows_a_field_by_a_share_of_the_image():
    field = np.zeros((100, 100), dtype=bool)
    field[40:60, 40:60] = True
    grown = dilated(field, 0.05)
    assert grown[35, 50] and not grown[30, 50] and grown.sum() > field.sum()


# An evaluator as a third party would ship it, reading what the core hands it: each split's
# lung fields, row-aligned with its images.
LUNG_PROBE = """
from bamnet_core.contract import hookimpl

class LungProbe:
    '''Reports the lung fields the core hands an evaluator.'''

    def evaluate_context(self, context):
        fields = context.split.lung_fields
        return {"shape": list(fields.shape), "images": list(context.split.images.shape),
                "dtype": str(fields.dtype), "share": float(fields.mean()),
                "each": [float(f.mean()) for f in fields]}

@hookimpl
def register_evaluators(register):
    register("lung-probe", LungProbe)
"""


def test_the_evaluate_stage_hands_every_split_its_lung_fields(cli, tmp_path: Path,
                                                              tiny_config: Path, install_fake):
    import json

    from bamnet_core.runs import layout

    install_fake("bamnet-lung-probe", LUNG_PROBE, "lung-probe")
    result = cli("run", str(tiny_config), "--output-dir", str(tmp_path / "out"), "--json",
                 "--set", 'evaluate.evaluators=["roc", "lung-probe"]', "--set",
                 "preprocess.size=64")
    assert result.exit_code == 0, result.stderr[-3000:]
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    metrics = json.loads((run_dir / layout.METRICS).read_text())
    for split in ("val", "test"):
        probe = metrics["splits"][split]["evaluators"]["lung-probe"]
        assert probe["shape"] == probe["images"][:3] and probe["dtype"] == "bool"
        assert all(0.15 < share < 0.6 for share in probe["each"]), probe  # lungs, not all
    assert 'estimator = "anatomical"' in (run_dir / layout.CONFIG).read_text()


def test_a_run_whose_masks_are_missing_is_refused_before_it_starts(cli, tmp_path: Path,
                                                                  tiny_config: Path):
    result = cli("run", str(tiny_config), "--output-dir", str(tmp_path / "out"), "--set",
                 f"lungs.masks={tmp_path / 'no-masks'}")
    assert result.exit_code != 0
    assert "lung masks" in result.stderr and "no-masks: not found" in result.stderr
    assert "[lungs] masks" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("make", "why"), [
    (lambda p: os.mkfifo(p), "not a folder or a regular file (a FIFO or a device?)"),
    (lambda p: p.symlink_to(p), "a symbolic link that leads nowhere or loops"),
    (lambda p: p.write_text("path,mask\n"), "a file, but no [lungs] column names its mask"),
])
def test_masks_that_are_no_folder_or_csv_are_refused_before_it_starts(cli, tmp_path: Path,
                                                                     tiny_config: Path,
                                                                     make, why):
    """A FIFO is never opened (it would block), a looping link is named as one."""
    place = tmp_path / "masks"
    make(place)
    result = cli("run", str(tiny_config), "--output-dir", str(tmp_path / "out"), "--set",
                 f"lungs.masks={place}")
    assert result.exit_code != 0 and why in result.stderr, result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
