"""``bamnet run`` end to end on a tiny config: the run folder, and reruns from it."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import pytest

from bamnet_core.runs import layout


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory):
    """One tiny run through the CLI, shared by the tests below."""
    from bamnet_testing import TINY_CONFIG, run_cli

    base = tmp_path_factory.mktemp("run")
    config = base / "tiny.toml"
    config.write_text(TINY_CONFIG)
    result = run_cli("run", str(config), "--output-dir", str(base / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), base


def test_run_folder_describes_itself(finished_run):
    payload, _ = finished_run
    run_dir = Path(payload["run_dir"])
    for name in (layout.CONFIG, layout.META, layout.SPLITS_CSV, layout.AUDIT, layout.MODEL,
                 layout.HISTORY, layout.METRICS, layout.PREPROCESS):
        assert (run_dir / name).is_file(), name
    assert not list(run_dir.glob(".*tmp*")), "no temp files left behind"
    meta = json.loads((run_dir / layout.META).read_text())
    assert meta["status"] == "complete" and meta["seed"] == 3
    assert "bamnet==" in meta["plugins"][0]
    assert meta["finished_at"]
    _assert_describes_this_machine(meta["device"])
    history = list(csv.DictReader((run_dir / layout.HISTORY).open()))
    assert [int(r["epoch"]) for r in history] == [1, 2]
    assert "val_accuracy" in history[0]


def _assert_describes_this_machine(device: dict) -> None:
    """What TensorFlow lists here (the run was in this process): CPU, or GPU with their names."""
    import keras

    from bamnet_core.train.setup import describe_device

    assert device == describe_device()
    assert device["keras"] == keras.__version__ and device["backend"] == keras.backend.backend()
    if device["backend"] == "tensorflow":
        import tensorflow as tf

        gpus = [g.name for g in tf.config.list_physical_devices("GPU")]
        assert device["tensorflow"] == tf.__version__
        assert device["device"] == ("GPU" if gpus else "CPU")
        assert device.get("gpus", []) == gpus
    else:
        assert device["device"] in ("CPU", "GPU", "TPU")


def test_metrics_have_explicit_positive_class(finished_run):
    payload, _ = finished_run
    val = payload["metrics"]["splits"]["val"]["evaluators"]["classification"]
    assert val["positive"] == "covid"
    for key in ("accuracy", "sensitivity", "specificity"):
        assert 0.0 <= val[key] <= 1.0
    counts = val["counts"]
    assert counts["tp"] + counts["fn"] + counts["tn"] + counts["fp"] == \
        payload["metrics"]["splits"]["val"]["images"]


def test_split_is_by_patient(finished_run):
    payload, _ = finished_run
    rows = list(csv.DictReader((Path(payload["run_dir"]) / layout.SPLITS_CSV).open()))
    splits_of: dict[str, set[str]] = {}
    for row in rows:
        splits_of.setdefault(row["patient_id"], set()).add(row["split"])
    assert all(len(s) == 1 for s in splits_of.values())
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    audit = json.loads((Path(payload["run_dir"]) / layout.AUDIT).read_text())
    assert audit["split"]["patients_in_several_splits"] == 0 and not audit["split"]["leaky"]


def test_config_toml_reruns_the_same_experiment(finished_run, cli):
    payload, base = finished_run
    run_dir = Path(payload["run_dir"])
    resolved = tomllib.loads((run_dir / layout.CONFIG).read_text())
    assert resolved["run"]["seed"] == 3 and resolved["train"]["optimizer"]["name"] == "adam"
    again = cli("run", str(run_dir / layout.CONFIG), "--output-dir", str(base / "again"),
                "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["metrics"] == payload["metrics"]


def test_image_split_is_flagged_leaky(cli, tiny_config: Path, tmp_path: Path):
    result = cli("run", str(tiny_config), "--set", "split.by=image", "--set", "train.epochs=1",
                 "--output-dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert "leaky" in result.stderr and "optimistic" in result.stderr
    assert "Run folder:" in result.stdout


def test_a_run_ends_with_a_report_and_an_onnx_model(cli, tiny_config: Path, tmp_path: Path):
    result = cli("run", str(tiny_config), "--set", "export.onnx=true", "--output-dir",
                 str(tmp_path / "runs"))
    assert result.exit_code == 0, result.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    assert f"Model: {run_dir / layout.ONNX}" in result.stdout
    assert f"Report: {run_dir / layout.REPORT}" in result.stdout
    for stage in ("data", "decode", "audit", "train", "evaluate", "export", "report"):
        assert f"done {stage} (" in result.stderr, stage
    meta = json.loads((run_dir / layout.META).read_text())
    assert meta["export"]["model"] == layout.ONNX  # relative: the folder can move
    assert set(meta["timings_s"]) >= {"train", "evaluate", "report", "export"}


def test_until_stops_after_a_stage_and_resume_finishes(cli, tiny_config: Path, tmp_path: Path):
    out = tmp_path / "runs"
    stopped = cli("run", str(tiny_config), "--until", "audit", "--output-dir", str(out))
    assert stopped.exit_code == 0, stopped.stderr
    run_dir = next(out.iterdir())
    assert f"Continue with: bamnet resume {run_dir}" in stopped.stdout
    meta = json.loads((run_dir / layout.META).read_text())
    assert meta["status"] == "stopped" and meta["stopped_after"] == "audit"
    assert (run_dir / layout.AUDIT).is_file() and not (run_dir / layout.MODEL).exists()
    finished = cli("run", "--resume", str(run_dir))
    assert finished.exit_code == 0, finished.stderr
    assert "kept data (finished by an earlier attempt)" in finished.stderr
    assert "kept audit (" in finished.stderr and "done audit (" not in finished.stderr
    assert "done train (" in finished.stderr
    assert json.loads((run_dir / layout.META).read_text())["status"] == "complete"


def test_from_redoes_late_stages_of_a_complete_run(cli, tiny_config: Path, tmp_path: Path):
    out = tmp_path / "runs"
    assert cli("run", str(tiny_config), "--output-dir", str(out)).exit_code == 0
    run_dir = next(out.iterdir())
    (run_dir / layout.REPORT).unlink()
    redone = cli("run", "--resume", str(run_dir), "--from", "report")
    assert redone.exit_code == 0, redone.stderr
    assert (run_dir / layout.REPORT).is_file() and "done report (" in redone.stderr
    again = cli("run", "--resume", str(run_dir))
    assert again.exit_code == 1 and "--from evaluate|export|report" in again.stderr
    refused = cli("run", "--resume", str(run_dir), "--from", "train")
    assert refused.exit_code == 1 and "start a new run" in refused.stderr
    bad = cli("run", str(tiny_config), "--until", "generator", "--output-dir", str(out))
    assert bad.exit_code == 1 and "this config has no generator stage" in bad.stderr


def test_until_with_ablate_is_refused_before_anything_runs(cli, tiny_config: Path,
                                                            tmp_path: Path):
    out = tmp_path / "runs"
    refused = cli("ablate", str(tiny_config), "--until", "audit", "--output-dir", str(out))
    assert refused.exit_code == 2 and "No such option: --until" in refused.stderr, refused.stderr
    assert not out.exists()
