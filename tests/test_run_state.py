"""Run state is checked when it is loaded: state.json, checkpoints, best.keras, model.keras."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from bamnet_core.config.schema import TrainSection
from bamnet_core.errors import RunError
from bamnet_core.runs import layout
from bamnet_core.train import checkpoint


def write_state(run: Path, **changes) -> Path:
    folder = run / layout.CHECKPOINT
    folder.mkdir(parents=True, exist_ok=True)
    fields = {"phase": "train", "phase_epochs": 2,
              "model_file": layout.checkpoint_model("train", 2),
              "history": [{"epoch": 1}, {"epoch": 2}], "best": 0.5, "best_epoch": 2,
              "wait": 0, "seed": 3, "phase_done": False, **changes}
    (folder / layout.checkpoint_model("train", 2)).write_bytes(b"model")
    path = folder / layout.CHECKPOINT_STATE
    path.write_text(json.dumps(fields))
    return path


TRAIN = TrainSection(epochs=2)


def test_a_good_state_loads(tmp_path):
    write_state(tmp_path)
    state = checkpoint.load_state(tmp_path, TRAIN)
    assert state is not None and state.phase_epochs == 2


def test_no_state_is_none(tmp_path):
    assert checkpoint.load_state(tmp_path, TRAIN) is None


@pytest.mark.parametrize("changes, problem", [
    ({"model_file": "../../../../../etc/passwd"}, "not a train checkpoint file"),
    ({"model_file": "/etc/passwd"}, "not a train checkpoint file"),
    ({"model_file": f"sub/{layout.checkpoint_model('train', 2)}"}, "not a train checkpoint file"),
    ({"model_file": layout.checkpoint_model("train", 1)}, "is not epoch 2"),
    ({"phase_epochs": 5, "model_file": layout.checkpoint_model("train", 5),
      "history": [{}] * 5}, "records 5 epoch(s) of phase train, but the config trains 2"),
    ({"phase": "finetune", "model_file": layout.checkpoint_model("finetune", 2)},
     "config trains 0"),
    ({"history": [{}] * 7}, "history has 7 epoch(s)"),
    ({"phase_epochs": -1}, "wrong types"),
    ({"phase_epochs": "2"}, "wrong types"),
    ({"phase": "evil"}, "wrong types"),
    ({"unknown": 1}, "unexpected keyword"),
])
def test_a_bad_state_is_named_with_what_to_do(tmp_path, changes, problem):
    path = write_state(tmp_path, **changes)
    with pytest.raises(RunError) as info:
        checkpoint.load_state(tmp_path, TRAIN)
    assert info.value.message.startswith(f"{path} is damaged: ")
    assert problem in info.value.message
    assert f"bamnet resume {tmp_path}" in (info.value.hint or "")


@pytest.mark.parametrize("content", [b"\xff\xfe\x00", b"[]", b"{", b"null"])
def test_a_garbage_state_file_is_named(tmp_path, content):
    path = write_state(tmp_path)
    path.write_bytes(content)
    with pytest.raises(RunError, match="is damaged"):
        checkpoint.load_state(tmp_path, TRAIN)


def test_a_model_file_that_is_a_symlink_or_missing_is_refused(tmp_path):
    write_state(tmp_path)
    model = tmp_path / layout.CHECKPOINT / layout.checkpoint_model("train", 2)
    model.unlink()
    with pytest.raises(RunError, match="which is missing"):
        checkpoint.load_state(tmp_path, TRAIN)
    (tmp_path / "elsewhere").write_bytes(b"x")
    model.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunError, match="not a plain file"):
        checkpoint.load_state(tmp_path, TRAIN)


def keras_like(path: Path, config: bytes = b'{"class_name": "Functional"}') -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("model.weights.h5", b"\x00" * 4096)
    return path


def test_check_keras_file_names_damage(tmp_path):
    good = keras_like(tmp_path / layout.BEST)
    checkpoint.check_keras_file(good)
    cut = tmp_path / "cut.keras"
    cut.write_bytes(good.read_bytes()[:-200])
    flipped = tmp_path / "flipped.keras"
    data = bytearray(good.read_bytes())
    at = data.find(b"\x00" * 64)
    data[at:at + 8] = b"\x01" * 8
    flipped.write_bytes(bytes(data))
    noconfig = keras_like(tmp_path / "noconfig.keras", config=b"{not json")
    for bad in (cut, flipped, noconfig, tmp_path / "missing.keras"):
        with pytest.raises(RunError) as info:
            checkpoint.check_keras_file(bad)
        assert info.value.message.startswith(f"{bad} is damaged")


def test_resume_with_a_damaged_best_keras_fails_before_training(cli, tmp_path, tiny_config):
    """best.keras is checked when training resumes, not after every remaining epoch."""
    run = stopped_after_train(cli, tmp_path, tiny_config)
    (run / layout.BEST).write_bytes(b"PK\x03\x04 not a zip")
    result = cli("resume", str(run))
    assert result.exit_code == 1 and f"Error: {run / layout.BEST} is not what the train " \
        "stage wrote" in result.stderr  # the run's record refuses it first
    (run / layout.INTEGRITY).unlink()  # a run without a record: the archive check names it
    result = cli("resume", str(run))
    assert result.exit_code == 1
    assert f"Error: {run / layout.BEST} is damaged" in result.stderr
    assert "unexpected" not in result.stderr
    meta = json.loads((run / layout.META).read_text())
    assert meta["status"] == "failed" and "is damaged" in meta["error"]
    assert "done train" not in result.stderr


def test_resume_with_a_state_claiming_more_epochs_fails_clearly(cli, tmp_path, tiny_config):
    run = stopped_after_train(cli, tmp_path, tiny_config)
    state_path = run / layout.CHECKPOINT / layout.CHECKPOINT_STATE
    state = json.loads(state_path.read_text())
    state["phase_epochs"] = 9
    (run / layout.CHECKPOINT / state["model_file"]).rename(
        run / layout.CHECKPOINT / layout.checkpoint_model("train", 9))
    state["model_file"] = layout.checkpoint_model("train", 9)
    state["history"] = state["history"] * 5
    state_path.write_text(json.dumps(state))
    (run / layout.INTEGRITY).unlink()  # else refused as not what the train stage wrote
    result = cli("resume", str(run))
    assert result.exit_code == 1
    assert "records 9 epoch(s) of phase train, but the config trains 2" in result.stderr


def test_resume_without_state_says_training_restarts(cli, tmp_path, tiny_config):
    run = stopped_after_train(cli, tmp_path, tiny_config)
    (run / layout.CHECKPOINT / layout.CHECKPOINT_STATE).unlink()
    result = cli("resume", str(run), "--json")
    assert result.exit_code == 0, result.stderr
    assert f"{layout.CHECKPOINT_STATE} is missing: training restarts from epoch 1" in result.stderr


def stopped_after_train(cli, tmp_path: Path, tiny_config: Path) -> Path:
    """A tiny run killed (as far as its folder shows) after training, before evaluation."""
    result = cli("run", str(tiny_config), "-o", str(tmp_path / "runs"), "--until", "train",
                 "--json")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    meta = json.loads((run / layout.META).read_text())
    meta["stages"].pop("train")  # as if killed during the last epoch
    meta["status"] = "running"
    (run / layout.META).write_text(json.dumps(meta))
    return run
