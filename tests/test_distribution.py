"""Training on two devices gives the run one device gives: ``[train] distribution``.

TensorFlow fixes its devices when it first initialises them, so the CPU is
split into two logical devices in a fresh subprocess, before anything else
touches TensorFlow. There the same model trains once on one device and once
mirrored over both, from the same initial weights, on the same batches.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from bamnet_testing import TINY_CONFIG, python

from bamnet_core.runs import layout

SCRIPT = r'''
import json, sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

import keras
import numpy as np
from bamnet_core.config.schema import TrainSection
from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_core.train.engine import train_model
from bamnet_core.train.setup import seed_everything


class Plain:
    """No batch normalisation or dropout: replicas must then follow one device exactly."""

    def build(self, input_shape, num_classes):
        inputs = keras.Input(input_shape)
        x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
        x = keras.layers.Dense(8, activation="relu", name="dense")(x)
        return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax",
                                                      name="predictions")(x))


rng = np.random.default_rng(0)
x = rng.uniform(0, 1, (64, 16, 16, 1)).astype(np.float32)
y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)
spec = PreprocessSpec(size=16, channels=1)
out = {}
for setting in ("none", "mirrored"):
    seed_everything(0)
    train = TrainSection(epochs=3, batch_size=16, distribution=setting)
    result = train_model(Plain(), spec, x[:48], y[:48], x[48:], y[48:], train=train,
                         num_classes=2, seed=0, run_dir=sys.argv[1] + "/" + setting)
    out[setting] = {"info": {k: v for k, v in result.info.items()},
                    "history": result.history,
                    "weights": [w.tolist() for w in result.model.get_weights()]}
with open(sys.argv[1] + "/out.json", "w") as fh:
    json.dump(out, fh)

from bamnet_core.cli import main  # a whole run, mirrored over the two devices

main(["run", sys.argv[2], "-o", sys.argv[1] + "/runs", "--json"])
'''


def _env() -> dict[str, str]:
    root = Path(__file__).resolve().parents[1]
    return {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}"}


def test_two_logical_devices_train_like_one_and_meta_reports_both_batches(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_CONFIG.replace("[train]", '[train]\ndistribution = "mirrored"'),
                      encoding="utf-8")
    proc = subprocess.run([python(), "-c", SCRIPT, str(tmp_path), str(config)],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text())
    one, two = out["none"], out["mirrored"]
    assert one["info"]["replicas"] == 1 and one["info"]["distribution"] == "none"
    assert two["info"]["replicas"] == 2 and two["info"]["distribution"] == "mirrored"
    assert two["info"]["global_batch_size"] == 16 and two["info"]["batch_size_per_replica"] == 8
    assert len(two["info"]["devices"]) == 2
    for a, b in zip(one["history"], two["history"], strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert b[key] == pytest.approx(a[key], abs=1e-4), (key, a, b)
    for a, b in zip(one["weights"], two["weights"], strict=True):
        np.testing.assert_allclose(np.array(b), np.array(a), atol=1e-4)
    run_dir = Path(json.loads(proc.stdout)["run_dir"])
    training = json.loads((run_dir / layout.META).read_text())["training"]
    assert training["distribution"] == "mirrored" and training["replicas"] == 2
    assert training["global_batch_size"] == 8 and training["batch_size_per_replica"] == 4


def test_unknown_distribution_is_one_error(tmp_path, cli, tiny_config):
    result = cli("run", str(tiny_config), "-o", str(tmp_path), "--set",
                 "train.distribution=sideways")
    assert result.exit_code == 1 and result.stderr.count("Error:") == 1
    assert "train.distribution" in result.stderr


def test_batch_that_does_not_split_over_the_devices_is_refused():
    from bamnet_core.errors import ConfigError
    from bamnet_core.train.distribution import Placement, check_batch

    place = Placement("mirrored", ["/cpu:0", "/cpu:1"])
    assert place.describe(8)["batch_size_per_replica"] == 4
    with pytest.raises(ConfigError, match="batch_size 9 does not split evenly") as caught:
        check_batch(place, 9)
    assert "multiple of 2" in caught.value.hint
