"""A component with tuple, Path | None and Literal options runs, and its config.toml reruns it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from bamnet_testing import TINY_CONFIG

from bamnet_core.contract import hookimpl
from bamnet_core.runs import layout
from bamnet_core.testing import run_preset


class KernelNet:
    """A tiny CNN whose options use a tuple, an optional path and a Literal."""

    def __init__(self, *, kernel: tuple[int, int] = (3, 3), notes: Path | None = None,
                 pool: Literal["max", "average"] = "max") -> None:
        self.kernel, self.notes, self.pool = kernel, notes, pool

    def build(self, input_shape: tuple[int, int, int], num_classes: int):
        import keras

        inputs = keras.Input(shape=input_shape, name="image")
        x = keras.layers.Conv2D(4, self.kernel, padding="same", activation="relu",
                                name="conv")(inputs)
        x = (keras.layers.GlobalMaxPooling2D(name="pool") if self.pool == "max" else
             keras.layers.GlobalAveragePooling2D(name="pool"))(x)
        outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                                     name="predictions")(x)
        return keras.Model(inputs, outputs, name="kernel_net")


class KernelPlugin:
    @hookimpl
    def register_backbones(self, register):
        register("kernel-net", KernelNet)


def test_typed_options_run_and_config_toml_reruns_to_the_same_metrics(tmp_path: Path):
    backbone = '[backbone]\nname = "kernel-net"\nkernel = [5, 3]\nnotes = "notes.txt"\n' \
               'pool = "average"\n'
    text = TINY_CONFIG[:TINY_CONFIG.index("[backbone]")] + backbone + \
        TINY_CONFIG[TINY_CONFIG.index("[train]"):]
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "typed.toml"
    config.write_text(text, encoding="utf-8")
    plugins = [("kernel", KernelPlugin())]
    first = run_preset(config, plugins=plugins, output_dir=tmp_path / "runs")
    written = (first.run_dir / layout.CONFIG).read_text()
    assert "kernel = [\n    5,\n    3,\n]" in written
    assert f'notes = "{tmp_path / "cfg" / "notes.txt"}"' in written  # resolved, absolute
    again = run_preset(first.run_dir / layout.CONFIG, plugins=plugins,
                       output_dir=tmp_path / "again")
    assert again.metrics == first.metrics
