"""Preset name or TOML path -> validated, fully resolved config; ``--set`` overrides.

A config is a TOML document with the sections in :data:`SCHEMA`. Sections
that pick a component (``[data]`` by ``source``, ``[backbone]`` and
``[generator]`` by ``name``) pass their remaining keys to that component's
factory, whose keyword parameters are the schema: an unknown key is an error
that names the section, the key and the keys the component accepts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from .config_schema import COMPONENT_SECTIONS, SCHEMA, Table, check_value
from .errors import ConfigError, UnknownComponentError
from .registry import Registry, factory_options


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
