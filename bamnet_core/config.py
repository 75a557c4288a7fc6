"""Preset name or TOML path -> validated, fully resolved config; ``--set`` overrides.

A config is a TOML document with the sections in :data:`SCHEMA`. Sections
that pick a component (``[data]`` by ``source``, ``[backbone]`` and
``[generator]`` by ``name``) pass their remaining keys to that component's
factory, whose keyword parameters are the schema: an unknown key is an error
that names the section, the key and the keys the component accepts.
"""

from __future__ import annotations

import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w

from .errors import ConfigError, UnknownComponentError
from .registry import Registry, factory_options


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


@dataclass
class Config:
    """A validated config with every default filled in.

    :param data: the resolved document (section -> key -> value).
    :param origin: where it came from (preset file or path), for messages.
    """

    data: dict[str, Any]
    origin: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.data[section]

    def component_options(self, section: str) -> dict[str, Any]:
        """The keys of a component section that go to the component factory."""
        core = SCHEMA[section]
        return {k: v for k, v in self.data[section].items() if k not in core}

    def to_toml(self) -> str:
        """The resolved config as TOML: enough to rerun the same experiment."""
        return tomli_w.dumps(_drop_none(self.data))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


# -- value checking ------------------------------------------------------------

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


# -- loading -------------------------------------------------------------------

def resolve_config_path(ref: str, registry: Registry) -> Path:
    """A preset name resolves to its file; otherwise ``ref`` must be a TOML path."""
    if ref in registry.names("preset"):
        return Path(registry.get("preset", ref).target)
    path = Path(ref)
    if path.is_file():
        return path
    known = ", ".join(registry.names("preset")) or "(none)"
    raise ConfigError(
        f"{ref!r} is neither a preset nor a config file; presets: {known}",
        hint="`bamnet presets list` shows the presets; or pass the path of a .toml file",
    )


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into :class:`ConfigError`."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}",
                          hint="fix the syntax at that line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``section.key=value`` and parse the value as TOML, falling back to a string."""
    key, sep, raw = text.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not sep or len(parts) < 2 or not all(parts):
        raise ConfigError(
            f"--set {text!r}: expected section.key=value", hint="for example --set train.epochs=3"
        )
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return parts, value


def apply_overrides(doc: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set`` overrides in place; return ``{dotted_key: value}`` of what was set."""
    applied: dict[str, Any] = {}
    for text in overrides:
        parts, value = parse_override(text)
        node = doc
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: {part!r} is a value, not a table")
            node = child
        node[parts[-1]] = value
        applied[".".join(parts)] = value
    return applied


class _Validator:
    def __init__(self, origin: str, overrides: dict[str, Any], registry: Registry) -> None:
        self.origin = origin
        self.overrides = overrides
        self.registry = registry

    def where(self, dotted: str) -> str:
        if dotted in self.overrides:
            return f"--set {dotted}"
        return f"{self.origin}: [{dotted.rsplit('.', 1)[0]}] {dotted.rsplit('.', 1)[1]}"

    def fail(self, dotted: str, problem: str, hint: str | None = None,
             cls: type[ConfigError] = ConfigError) -> None:
        if hint is None:
            hint = (f"fix the value given to --set {dotted}" if dotted in self.overrides else
                    f"edit {self.origin}, or override with --set {dotted}=VALUE; "
                    f"`bamnet presets show {self.origin} --resolved` lists every key")
        raise cls(f"{self.where(dotted)}: {problem}", hint=hint)

    def table(self, prefix: str, schema: Table, values: dict[str, Any],
              extra_ok: bool = False) -> dict[str, Any]:
        if not extra_ok:
            for key in values:
                if key not in schema:
                    accepted = ", ".join(schema)
                    self.fail(f"{prefix}.{key}", f"unknown key; [{prefix}] accepts: {accepted}")
        out: dict[str, Any] = {}
        for key, spec in schema.items():
            dotted = f"{prefix}.{key}"
            if isinstance(spec, dict):
                sub = values.get(key, {})
                if not isinstance(sub, dict):
                    self.fail(dotted, f"expected a table, got {sub!r}")
                out[key] = self.table(dotted, spec, sub)
                continue
            if key not in values:
                if spec.required:
                    raise ConfigError(
                        f"{self.origin}: [{prefix}] is missing required key {key!r}",
                        hint=f"add `{key} = ...` to [{prefix}] or pass --set {dotted}=...",
                    )
                out[key] = list(spec.default) if isinstance(spec.default, list) else spec.default
                continue
            try:
                out[key] = check_value(values[key], spec.type)
            except TypeError as exc:
                self.fail(dotted, str(exc))
        return out

    def component(self, section: str, values: dict[str, Any], out: dict[str, Any]) -> None:
        pick_key, kind = COMPONENT_SECTIONS[section]
        name = out.get(pick_key)
        core = SCHEMA[section]
        extra = {k: v for k, v in values.items() if k not in core}
        if name is None:
            if extra:
                self.fail(f"{section}.{next(iter(extra))}", f"set [{section}] {pick_key} first")
            return
        try:
            reg = self.registry.get(kind, name)
        except UnknownComponentError as exc:
            self.fail(f"{section}.{pick_key}", exc.message, exc.hint, UnknownComponentError)
        options = factory_options(reg.target)
        for key, value in extra.items():
            if key not in options:
                accepted = ", ".join(k for k in options) or "(no options)"
                self.fail(f"{section}.{key}",
                          f"unknown key for {kind.replace('_', ' ')} {name!r}; it accepts: "
                          f"{accepted}")
            try:
                out[key] = check_value(value, options[key].annotation)
            except TypeError as exc:
                self.fail(f"{section}.{key}", str(exc))
        for key, option in options.items():
            if key in out:
                continue
            if option.required:
                raise ConfigError(
                    f"{self.origin}: [{section}] {kind.replace('_', ' ')} {name!r} needs key "
                    f"{key!r}", hint=f"add `{key} = ...` to [{section}], or pass "
                                     f"--set {section}.{key}=VALUE")
            out[key] = option.default


def validate(doc: dict[str, Any], *, origin: str, registry: Registry,
             overrides: dict[str, Any] | None = None) -> Config:
    """Check a parsed document against :data:`SCHEMA` and the registered components."""
    overrides = overrides or {}
    v = _Validator(origin, overrides, registry)
    for section in doc:
        if section not in SCHEMA:
            raise ConfigError(
                f"{origin}: unknown section [{section}]; sections: {', '.join(SCHEMA)}",
                hint="check the spelling against `bamnet presets show quickstart`",
            )
    resolved: dict[str, Any] = {}
    for section, schema in SCHEMA.items():
        values = doc.get(section, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: {section!r} must be a table ([{section}])")
        if section == "generator" and not values.get("enabled", False):
            values = {k: val for k, val in values.items() if k in schema}
        extra_ok = section in COMPONENT_SECTIONS
        out = v.table(section, schema, values, extra_ok=extra_ok)
        if extra_ok:
            v.component(section, values, out)
        resolved[section] = out
    _check_semantics(resolved, v, registry)
    return Config(data=resolved, origin=origin, overrides=overrides)


def _check_semantics(cfg: dict[str, Any], v: _Validator, registry: Registry) -> None:
    data, split, gen = cfg["data"], cfg["split"], cfg["generator"]
    if len(data["classes"]) < 2 or len(set(data["classes"])) != len(data["classes"]):
        v.fail("data.classes", "needs two or more distinct class names")
    if data["positive"] not in data["classes"]:
        v.fail("data.positive", f"{data['positive']!r} is not one of classes {data['classes']}")
    for key in ("val", "test"):
        if not 0.0 <= split[key] < 1.0:
            v.fail(f"split.{key}", f"must be in [0, 1), got {split[key]}")
    if split["val"] <= 0.0:
        v.fail("split.val", "must be above 0: metrics are measured on the validation split")
    if split["val"] + split["test"] >= 1.0:
        v.fail("split.val", "val + test must leave images for training")
    for key in ("epochs", "batch_size"):
        if cfg["train"][key] < 1:
            v.fail(f"train.{key}", "must be at least 1")
    if cfg["train"]["early_stopping"] < 0 or cfg["train"]["finetune"]["epochs"] < 0:
        v.fail("train.early_stopping", "early_stopping and finetune.epochs must be >= 0")
    for key, value in cfg["train"]["augment"].items():
        if value < 0 or (key != "rotation" and value >= 1):
            v.fail(f"train.augment.{key}", f"must be >= 0 (and < 1 unless rotation), got {value}")
    if cfg["preprocess"]["size"] < 8:
        v.fail("preprocess.size", "must be at least 8")
    for name in cfg["evaluate"]["evaluators"]:
        try:
            registry.get("evaluator", name)
        except UnknownComponentError as exc:
            v.fail("evaluate.evaluators", exc.message, exc.hint, UnknownComponentError)
    if gen["enabled"]:
        if gen["name"] is None:
            v.fail("generator.name", "required when generator.enabled = true")
        if gen["balance_class"] not in data["classes"]:
            v.fail("generator.balance_class", f"must be one of {data['classes']}")
        if not 0.0 < gen["ratio"] <= 1.0:
            v.fail("generator.ratio", f"must be in (0, 1], got {gen['ratio']}")


def load_config(ref: str, registry: Registry, *, overrides: list[str] | None = None,
                seed: int | None = None) -> Config:
    """Resolve ``ref`` (preset name or path), apply overrides and validate.

    :param ref: a registered preset name or the path of a TOML file.
    :param overrides: ``section.key=value`` strings, applied in order.
    :param seed: if given, replaces ``run.seed`` (and the split seed when it
        followed the run seed).
    """
    path = resolve_config_path(ref, registry)
    doc = read_toml(path)
    extra = list(overrides or [])
    if seed is not None:
        extra.append(f"run.seed={seed}")
    applied = apply_overrides(doc, extra)
    return validate(doc, origin=str(path), registry=registry, overrides=applied)
