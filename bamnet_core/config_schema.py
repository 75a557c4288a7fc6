"""The config schema: core sections and keys, and the type checks applied to values.

Component sections (``[data]``, ``[backbone]``, ``[generator]``) list only
their core keys here; the rest come from the component factory's signature
(:func:`bamnet_core.registry.factory_options`).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Field:
    """A core config key: its type, default and meaning."""

    type: Any
    default: Any = None
    required: bool = False
    doc: str = ""


Table = dict[str, "Field | Table"]

SCHEMA: dict[str, Table] = {
    "run": {
        "name": Field(str, "run", doc="name used in the run folder"),
        "seed": Field(int, 0, doc="seed for splits, initialisation and shuffling"),
        "description": Field(str, "", doc="one line shown by `bamnet presets list`"),
    },
    "data": {
        "source": Field(str, required=True, doc="registered dataset source"),
        "classes": Field(list[str], required=True, doc="class names, in output order"),
        "positive": Field(str, required=True, doc="the positive class (sensitivity)"),
    },
    "preprocess": {
        "size": Field(int, 224, doc="square input size in pixels"),
        "channels": Field(Literal[1, 3], 3, doc="1 = grayscale; 3 = grayscale replicated"),
        "scaling": Field(Literal["unit", "vgg16"], "unit", doc="0-1, or VGG16 caffe mode"),
        "interpolation": Field(
            Literal["area", "linear", "cubic", "nearest", "lanczos"], "area", doc="resize filter"
        ),
        "aspect": Field(Literal["stretch", "pad"], "stretch", doc="how to make images square"),
    },
    "split": {
        "by": Field(Literal["patient", "image"], "patient", doc="'image' leaks; paper only"),
        "val": Field(float, 0.2, doc="validation fraction"),
        "test": Field(float, 0.0, doc="test fraction"),
        "seed": Field(int | None, None, doc="defaults to run.seed"),
    },
    "generator": {
        "enabled": Field(bool, False, doc="synthesise extra training images"),
        "name": Field(str | None, None, doc="registered generator"),
        "balance_class": Field(str | None, None, doc="class to synthesise"),
        "ratio": Field(float, 0.5, doc="target count of balance_class / count of the largest"),
    },
    "backbone": {
        "name": Field(str, required=True, doc="registered backbone"),
    },
    "train": {
        "epochs": Field(int, 10, doc="passes over the training split"),
        "batch_size": Field(int, 32, doc="images per step"),
        "class_weight": Field(Literal["none", "balanced"], "none", doc="loss weighting"),
        "optimizer": {
            "name": Field(Literal["adam", "sgd"], "adam", doc="optimizer"),
            "lr": Field(float, 1e-3, doc="initial learning rate"),
            "beta_1": Field(float, 0.9, doc="Adam beta_1 / SGD momentum"),
            "beta_2": Field(float, 0.999, doc="Adam beta_2"),
            "decay": Field(float, 0.0, doc="inverse-time decay per step: lr / (1 + decay*step)"),
        },
        "monitor": Field(Literal["val_loss", "val_accuracy", "loss", "accuracy"], "val_loss",
                         doc="metric picking best.keras and early stopping"),
        "early_stopping": Field(int, 0, doc="stop after N epochs without improvement; 0 = off"),
        "restore_best": Field(bool, False, doc="model.keras = the best epoch, not the last"),
        "feature_cache": Field(Literal["auto"] | bool, "auto",
                               doc="train the head on cached frozen-backbone features"),
        "mixed_precision": Field(bool, False, doc="float16 (GPU) / bfloat16 (CPU) compute"),
        "jit_compile": Field(bool, False, doc="compile the train step with XLA"),
        "augment": {
            "rotation": Field(float, 0.0, doc="max rotation in degrees (paper start: 15)"),
            "shift": Field(float, 0.0, doc="max shift, fraction of width/height"),
            "zoom": Field(float, 0.0, doc="max zoom in/out, fraction"),
            "brightness": Field(float, 0.0, doc="max brightness change, fraction of range"),
        },
        "finetune": {
            "epochs": Field(int, 0, doc="epochs of phase 2 (0 = no fine-tuning)"),
            "lr": Field(float, 1e-5, doc="learning rate of phase 2"),
            "unfreeze": Field(str, "block5", doc="backbone layers from this name prefix on"),
        },
    },
    "evaluate": {
        "evaluators": Field(list[str], ["classification"], doc="registered evaluators"),
        "threshold": Field(float, 0.5, doc="positive-class probability cut-off"),
    },
}

# Sections whose extra keys belong to a component, and the key that picks it.
COMPONENT_SECTIONS = {"data": ("source", "dataset_source"), "backbone": ("name", "backbone"),
                      "generator": ("name", "generator")}


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        (inner,) = typing.get_args(tp) or (Any,)
        return f"a list of {_type_name(inner)}"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            type(None): "absent", dict: "a table"}.get(tp, getattr(tp, "__name__", str(tp)))


def check_value(value: Any, tp: Any) -> Any:
    """Return ``value`` converted to ``tp`` where lossless, else raise ``TypeError``.

    Integers are accepted where numbers are expected; nothing else is coerced.
    """
    if tp is Any or tp is typing.Any:
        return value
    origin = typing.get_origin(tp)
    if origin is Literal:
        if value in typing.get_args(tp) and type(value) is not bool:
            return value
        raise TypeError(f"expected {_type_name(tp)}, got {value!r}")
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return check_value(value, option)
            except TypeError:
                continue
        raise TypeError(f"expected {_type_name(tp)}, got {value!r}")
    if origin is list:
        if not isinstance(value, list):
            raise TypeError(f"expected {_type_name(tp)}, got {value!r}")
        (inner,) = typing.get_args(tp) or (Any,)
        return [check_value(v, inner) for v in value]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise TypeError(f"expected a table, got {value!r}")
        return value
    if tp is type(None):
        if value is None:
            return None
        raise TypeError(f"expected nothing, got {value!r}")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif isinstance(tp, type) and isinstance(value, tp) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected {_type_name(tp)}, got {value!r}")
