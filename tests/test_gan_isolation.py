"""Nothing synthetic reaches validation or test; nothing held out reaches the GAN.

The run-time checks (``bamnet_core.experiment.leakage``) are tested on splits
built to break them, and a real run with the DCGAN is read back from its run
folder; the same run, interrupted after the GAN and resumed, reuses the GAN.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from gan_fixtures import tiny_gan_config

from bamnet_core.config.load import load_config
from bamnet_core.contract import Sample
from bamnet_core.data.splits import PatientSplit
from bamnet_core.experiment.leakage import (
    LeakageError,
    check_generator_inputs,
    check_synthetic_placement,
)
from bamnet_core.experiment.runner import resume_experiment, run_experiment
from bamnet_core.plugins import load_plugins
from bamnet_core.runs import layout


def _s(path: str, patient: str, *, synthetic: bool = False) -> Sample:
    return Sample(path=path, label="covid", patient_id=patient, source="t", synthetic=synthetic)


def _split(by: str = "patient", **parts: list[Sample]) -> PatientSplit:
    return PatientSplit(assignment={"train": [], "val": [], "test": [], **parts}, by=by, seed=0)


def test_a_synthetic_image_in_validation_or_test_stops_the_run():
    for held in ("val", "test"):
        split = _split(train=[_s("a", "p1")], **{held: [_s("g", "syn-1", synthetic=True)]})
        with pytest.raises(LeakageError, match="synthetic image.*in validation or test"):
            check_synthetic_placement(split)
    ok = _split(train=[_s("a", "p1"), _s("g", "syn-1", synthetic=True)], val=[_s("b", "p2")])
    assert check_synthetic_placement(ok) == 1


def test_a_gan_training_set_with_a_held_out_patient_or_image_stops_the_run():
    split = _split(train=[_s("a", "p1"), _s("c", "p3")], val=[_s("b", "p2")],
                   test=[_s("d", "p4")])
    with pytest.raises(LeakageError, match="p2"):
        check_generator_inputs(split, [_s("a", "p1"), _s("x", "p2")])  # another image of p2
    with pytest.raises(LeakageError, match="d"):
        check_generator_inputs(split, [_s("d", "p4")])
    with pytest.raises(LeakageError, match="synthetic"):
        check_generator_inputs(split, [_s("g", "syn", synthetic=True)])
    assert check_generator_inputs(split, [_s("a", "p1"), _s("c", "p3")])["patients"] == 2


def test_the_image_level_split_reports_patient_overlap_but_never_shares_an_image():
    split = _split("image", train=[_s("a", "p1")], val=[_s("b", "p1")])
    assert check_generator_inputs(split, [_s("a", "p1")])["held_out_patients_seen"] == 1
    with pytest.raises(LeakageError):
        check_generator_inputs(split, [_s("b", "p1")])


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class _StopAtTraining:
    def __init__(self) -> None:
        self.events = []

    def __call__(self, event) -> None:
        self.events.append(event)
        if event.stage == "train":
            raise KeyboardInterrupt  # the run dies once the classifier starts


def test_a_gan_run_keeps_held_out_data_and_synthetic_images_apart_and_resumes_without_refit(
        tmp_path):
    config = tmp_path / "gan.toml"
    config.write_text(tiny_gan_config(epochs=2), encoding="utf-8")
    host = load_plugins()
    cfg = load_config(str(config), host.registry, overrides=["train.epochs=1"])
    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, host, output_dir=tmp_path / "runs", progress=_StopAtTraining())
    run_dir = next((tmp_path / "runs").iterdir())
    gen = run_dir / layout.GENERATOR
    for name in ("samples/epoch-0002.png", "losses.csv", "losses.png", "generator.keras"):
        assert (gen / name).is_file(), name
    fitted_on = _rows(run_dir / layout.GENERATOR_FITTED_ON)
    manifest = _rows(run_dir / layout.GENERATOR_MANIFEST)
    images = {p: p.stat().st_mtime_ns for p in (run_dir / layout.GENERATOR_IMAGES).iterdir()}

    events = []
    result = resume_experiment(run_dir, host, progress=events.append)
    assert not [e for e in events if e.stage == "generator" and "epoch" in e.fields]
    assert result.metrics.generator.reused is True
    assert {p: p.stat().st_mtime_ns
            for p in (run_dir / layout.GENERATOR_IMAGES).iterdir()} == images

    rows = _rows(run_dir / layout.SPLITS_CSV)
    held = [r for r in rows if r["split"] in ("val", "test")]
    train = [r for r in rows if r["split"] == "train"]
    assert held and not [r for r in held if r["synthetic"] == "True"]
    synthetic = {r["path"] for r in train if r["synthetic"] == "True"}
    assert synthetic == {r["path"] for r in manifest} and len(synthetic) > 0
    assert all(r["synthetic"] == "true" and r["generator_checkpoint"].endswith(
        "generator.keras") and r["generator_seed"] == "3" for r in manifest)
    assert sorted(int(r["index"]) for r in manifest) == list(range(len(manifest)))
    real_train = {(r["path"], r["patient_id"]) for r in train
                  if r["synthetic"] != "True" and r["label"] == "covid"}
    assert {(r["path"], r["patient_id"]) for r in fitted_on} == real_train
    assert not {r["patient_id"] for r in fitted_on} & {r["patient_id"] for r in held}

    covid = sum(r["label"] == "covid" for r in train)
    normal = sum(r["label"] == "normal" for r in train)
    assert covid >= normal  # ratio = 1.0
    quality = json.loads((run_dir / layout.METRICS).read_text())["gan_quality"]["gan-quality"]
    assert quality["space"].startswith("classifier penultimate layer")
    assert quality["synthetic_images"] == len(manifest)
    assert quality["real_images"] == len(fitted_on)
    assert (run_dir / quality["folder"] / quality["figures"]["nearest_pairs"]).is_file()
