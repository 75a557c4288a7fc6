"""The training engine through `bamnet run`: determinism, feature cache, fine-tuning, resume."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from bamnet_core.config.schema import TrainSection
from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_core.runs import layout
from bamnet_core.train import checkpoint
from bamnet_core.train.engine import train_model
from bamnet_core.train.setup import describe_device, mixed_policy, seed_everything
from bamnet_paper.backbones.small_cnn import SmallCNN

VGG_TINY = """\
[backbone]
name = "vgg16"
weights = "none"
head = "pyimagesearch"
"""


def _config(tmp_path: Path, tiny: str, *, extra: str = "", backbone: str | None = None) -> Path:
    text = tiny
    if backbone is not None:
        text = text[:text.index("[backbone]")] + backbone + "\n" + text[text.index("[train]"):]
        text = text.replace("channels = 1", "channels = 3")
    path = tmp_path / f"cfg-{abs(hash((extra, backbone)))}.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def _history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / layout.HISTORY, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _run(cli, config: Path, out: Path, *extra: str) -> dict:
    result = cli("run", str(config), "-o", str(out), "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_same_seed_same_metrics_with_augmentation(cli, tmp_path, tiny_config):
    cfg = _config(tmp_path, tiny_config.read_text(),
                  extra="augment = { rotation = 15.0, shift = 0.1, zoom = 0.1, "
                        "brightness = 0.1 }\n")
    a = _run(cli, cfg, tmp_path / "a")
    b = _run(cli, cfg, tmp_path / "b")
    assert a["metrics"]["splits"] == b["metrics"]["splits"]
    ha, hb = _history(Path(a["run_dir"])), _history(Path(b["run_dir"]))
    assert [r["loss"] for r in ha] == [r["loss"] for r in hb]
    assert [r["epoch"] for r in ha] == ["1", "2"]
    meta = json.loads((Path(a["run_dir"]) / layout.META).read_text())
    assert meta["device"] == describe_device() and meta["status"] == "complete"
    assert (Path(a["run_dir"]) / layout.BEST).is_file()


@pytest.mark.slow  # two trainings compared (about 50 s)
def test_feature_cache_matches_full_model_training(cli, tmp_path, tiny_config, monkeypatch):
    # a cache of its own: other tests may already have cached these very features
    monkeypatch.setenv("BAMNET_CACHE_DIR", str(tmp_path / "cache"))
    tiny = tiny_config.read_text()
    full = _run(cli, _config(tmp_path, tiny, backbone=VGG_TINY,
                             extra="feature_cache = false\n"), tmp_path / "full")
    cached_cfg = _config(tmp_path, tiny, backbone=VGG_TINY, extra="feature_cache = true\n")
    cached = _run(cli, cached_cfg, tmp_path / "cached")
    h_full, h_cached = _history(Path(full["run_dir"])), _history(Path(cached["run_dir"]))
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose([float(r[key]) for r in h_cached],
                                   [float(r[key]) for r in h_full], rtol=1e-4, atol=1e-5)
    meta = json.loads((Path(cached["run_dir"]) / layout.META).read_text())
    assert meta["training"]["feature_cache"] is True
    assert meta["training"]["feature_cache_counts"]["train"]["computed"] > 0
    model = keras.models.load_model(Path(cached["run_dir"]) / layout.MODEL)
    assert model.get_layer("backbone") is not None and model.output_shape == (None, 2)
    again = _run(cli, cached_cfg, tmp_path / "again")
    counts = json.loads((Path(again["run_dir"]) / layout.META).read_text())["training"]
    assert counts["feature_cache_counts"]["train"]["computed"] == 0


def test_feature_cache_true_with_augmentation_is_refused(cli, tmp_path, tiny_config):
    cfg = _config(tmp_path, tiny_config.read_text(), backbone=VGG_TINY,
                  extra="feature_cache = true\naugment = { rotation = 15.0 }\n")
    result = cli("run", str(cfg), "-o", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert "feature_cache = true" in result.stderr and "augment" in result.stderr


@pytest.mark.slow  # VGG16 trained in two phases (about 20 s)
def test_finetune_phase_unfreezes_block5_and_counts_epochs_on(cli, tmp_path, tiny_config):
    cfg = _config(tmp_path, tiny_config.read_text().replace("epochs = 2", "epochs = 1"),
                  backbone=VGG_TINY, extra="[train.finetune]\nepochs = 1\nlr = 1e-5\n")
    run = Path(_run(cli, cfg, tmp_path / "ft")["run_dir"])
    rows = _history(run)
    assert [(r["epoch"], r["phase"]) for r in rows] == [("1", "train"), ("2", "finetune")]
    meta = json.loads((run / layout.META).read_text())
    assert meta["training"]["unfrozen_layers"] == 4  # block5_conv1..3 and block5_pool
    model = keras.models.load_model(run / layout.MODEL)
    assert model.get_layer("backbone").get_layer("block5_conv1").trainable


def test_unknown_unfreeze_prefix_names_the_layers(cli, tmp_path, tiny_config):
    cfg = _config(tmp_path, tiny_config.read_text(), backbone=VGG_TINY,
                  extra="[train.finetune]\nepochs = 1\nunfreeze = \"block9\"\n")
    result = cli("run", str(cfg), "-o", str(tmp_path / "r"))
    assert result.exit_code == 1 and "block9" in result.stderr and "block5_conv1" in result.stderr


def test_resume_refuses_complete_runs_and_non_run_folders(cli, tmp_path, tiny_config):
    run = _run(cli, tiny_config, tmp_path / "runs")["run_dir"]
    done = cli("run", "--resume", run)
    assert done.exit_code == 1 and "complete" in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = cli("run", "--resume", str(empty))
    assert bad.exit_code == 1 and "not a bamnet run folder" in bad.stderr
    both = cli("run", str(tiny_config), "--resume", run)
    assert both.exit_code == 2


def test_checkpoint_state_points_at_a_model_with_optimizer_state(cli, tmp_path, tiny_config):
    run = Path(_run(cli, tiny_config, tmp_path / "runs")["run_dir"])
    state = checkpoint.load_state(run)
    assert state is not None and state.phase_epochs == 2 and len(state.history) == 2
    model = checkpoint.load_model(run, state)
    assert int(model.optimizer.iterations.numpy()) > 0
    assert sorted(p.name for p in (run / layout.CHECKPOINT).iterdir()) == [
        layout.CHECKPOINT_STATE, layout.checkpoint_model("train", 2)]


def test_bad_augment_value_is_a_config_error(cli, tmp_path, tiny_config):
    cfg = _config(tmp_path, tiny_config.read_text(), extra="augment = { zoom = 1.5 }\n")
    result = cli("run", str(cfg), "-o", str(tmp_path / "r"))
    assert result.exit_code == 1 and "[train.augment] zoom" in result.stderr


def _train_tiny(tmp_path: Path, **switches: bool):
    """SmallCNN trained for one epoch on 16 random 16x16 images, straight through the engine."""
    seed_everything(0)  # op determinism on, as in a run: jit_compile must turn it off
    x = np.random.default_rng(0).uniform(0, 1, (16, 16, 16, 1)).astype(np.float32)
    y = np.array([0, 1] * 8)
    train = TrainSection(epochs=1, batch_size=8, **switches)
    result = train_model(SmallCNN(filters=[4], dense=4), PreprocessSpec(size=16, channels=1),
                         x, y, x[:8], y[:8], train=train, num_classes=2, seed=0,
                         run_dir=tmp_path)
    return result, x, y


def _dtype(tensor) -> str:
    return keras.backend.standardize_dtype(tensor.dtype)


@pytest.mark.parametrize("mixed", [False, True])
def test_mixed_precision_computes_in_reduced_precision_with_float32_variables_and_loss(
        tmp_path, mixed):
    result, x, y = _train_tiny(tmp_path, mixed_precision=mixed)
    model = result.model
    policy = mixed_policy() if mixed else "float32"  # mixed_bfloat16 on CPU, float16 on GPU
    compute = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}.get(policy, "float32")
    assert result.info["precision"] == policy
    conv = model.get_layer("block1_conv")
    assert conv.dtype_policy.name == policy
    assert conv.compute_dtype == compute and conv.variable_dtype == "float32"
    assert {_dtype(w) for w in model.weights} == {"float32"}
    assert model.layers[-1].compute_dtype == "float32"  # the softmax
    probs = model(x, training=False)
    assert _dtype(probs) == "float32"
    loss = keras.losses.sparse_categorical_crossentropy(y, probs)
    assert _dtype(loss) == "float32" and np.isfinite(np.asarray(loss)).all()
    assert np.isfinite(result.history[0]["loss"])
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


@pytest.mark.parametrize("jit", [False, True])
def test_jit_compile_makes_keras_compile_the_train_step_with_xla(tmp_path, jit):
    result, _, _ = _train_tiny(tmp_path, jit_compile=jit)
    # Keras turns jit_compile off, silently, while TensorFlow op determinism is on
    assert result.model.jit_compile is jit
    assert result.info["jit_compile"] is jit


def test_precision_and_jit_switches_reach_meta_json(cli, tmp_path, tiny_config):
    cfg = _config(tmp_path, tiny_config.read_text().replace("epochs = 2", "epochs = 1"),
                  extra="mixed_precision = true\njit_compile = true\n")
    run = _run(cli, cfg, tmp_path / "r")
    assert run["metrics"]["splits"]["val"]["images"] > 0
    training = json.loads((Path(run["run_dir"]) / layout.META).read_text())["training"]
    assert training["precision"] == mixed_policy() and training["jit_compile"] is True
    assert keras.config.dtype_policy().name == "float32"
