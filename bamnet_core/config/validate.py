"""Check a parsed config document: core sections, each component's options, their relations.

Values are validated by pydantic in strict JSON mode, since TOML values are
JSON values: integers are not booleans, strings are not numbers, arrays
become tuples where a tuple is annotated, strings become ``Path`` objects.
Every problem is collected (:mod:`.problems`) before one error is raised.
Relative paths in options annotated ``Path`` resolve against the config
file's folder, or the current directory for ``--set`` values.
"""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path, PurePath
from typing import Any

import pydantic

from ..contract.kinds import COMPONENT_SECTIONS
from ..errors import UnknownComponentError
from ..imaging.preprocess import SCALING_ALIASES
from ..plugins.options import options_model
from ..plugins.registry import Registry
from .problems import Problems, did_you_mean, humanise
from .resolved import Config
from .schema import SECTIONS, Section, core_keys


def _to_json(values: dict[str, Any]) -> str:
    return json.dumps(values, default=str)


def _model_at(model: type[pydantic.BaseModel], path: tuple[Any, ...]) -> Any:
    """The nested model reached by following field names ``path`` from ``model``."""
    for part in path:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = field.annotation
    return model


def _dotted(prefix: str, loc: tuple[Any, ...]) -> str:
    """``train.optimizer.lr``; list positions as ``backbone.filters[0]``."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _default_of(model: Any, loc: tuple[Any, ...]) -> Any:
    """The default of the field at ``loc`` (``None`` when unknown), to show a correct example."""
    if len(loc) != 1 and not all(isinstance(p, str) for p in loc):
        return None
    inner = _model_at(model, tuple(loc[:-1]))
    field = getattr(inner, "model_fields", {}).get(loc[-1])
    if field is None or field.is_required():
        return None
    default = field.get_default(call_default_factory=True)
    return default if isinstance(default, bool | int | float | str) else None


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if not isinstance(value, str) else f'"{value}"'


def _report(problems: Problems, prefix: str, errors: list[Any],
            model: type[pydantic.BaseModel], owner: str) -> None:
    """Turn pydantic's errors into problems located at ``prefix.<loc>``."""
    for error in errors:
        loc = tuple(error["loc"])
        dotted = _dotted(prefix, loc)
        if error["type"] == "extra_forbidden":
            inner = _model_at(model, loc[:-1])
            accepted = getattr(inner, "model_fields", {}) or {}
            problems.unknown_key(dotted, accepted, owner if len(loc) == 1 else
                                 f"[{dotted.rsplit('.', 1)[0]}]")
        elif error["type"] == "missing":
            problems.add(dotted, "required key is missing", f"{dotted}=VALUE")
        else:
            default = _default_of(model, loc)
            fix = f"{dotted}={_toml(default)}" if default is not None else None
            problems.add(dotted, f"{humanise(error['msg'])}, got {error.get('input')!r}", fix)


def _mentions_path(tp: Any) -> bool:
    if inspect.isclass(tp) and issubclass(tp, PurePath):
        return True
    return any(_mentions_path(arg) for arg in typing.get_args(tp))


def _resolve(value: Any, base: Path) -> Any:
    """Relative path strings (also in lists) made absolute against ``base``."""
    if isinstance(value, str) and value:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else base / path)
    if isinstance(value, list):
        return [_resolve(v, base) for v in value]
    return value


class _Validator:
    def __init__(self, doc: dict[str, Any], origin: str, registry: Registry,
                 overrides: dict[str, Any], base_dir: Path, allow_missing: bool,
                 flags: dict[str, str]) -> None:
        self.doc, self.registry, self.base_dir = doc, registry, base_dir
        self.allow_missing = allow_missing
        self.problems = Problems(origin, overrides, flags)
        self.config = Config(data={}, origin=origin, overrides=overrides)

    def run(self) -> Config:
        for section in self.doc:
            if section not in SECTIONS:
                guess = did_you_mean(section, SECTIONS)
                self.problems.add(section, f"unknown section{guess}; sections: "
                                  f"{', '.join(SECTIONS)}")
        for section, model in SECTIONS.items():
            values = self.doc.get(section, {})
            if not isinstance(values, dict):
                self.problems.add(section, f"must be a table ([{section}]), got {values!r}")
                continue
            self.section(section, model, values)
        if not self.problems.items:
            self.relations()
        self.problems.raise_if_any()
        return self.config

    def section(self, section: str, model: type[Section], values: dict[str, Any]) -> None:
        core = core_keys(section)
        own = {k: v for k, v in values.items() if k in core or section not in COMPONENT_SECTIONS}
        if self.allow_missing:
            for key, field in model.model_fields.items():
                if field.is_required() and key not in own:
                    self.config.missing.append(f"{section}.{key}")
        try:
            checked = model.model_validate_json(_to_json(own), strict=True)
        except pydantic.ValidationError as exc:
            if not self.allow_missing or any(e["type"] != "missing" for e in exc.errors()):
                _report(self.problems, section, exc.errors(), model, f"[{section}]")
            self.config.data[section] = {k: v for k, v in own.items()}
            return
        resolved = checked.model_dump(mode="json")
        resolved = {k: v for k, v in resolved.items() if k in model.model_fields}
        if section == "preprocess" and resolved["scaling"] in SCALING_ALIASES:
            new = SCALING_ALIASES[resolved["scaling"]]
            self.config.notices.append(f"preprocess.scaling {resolved['scaling']!r} is now "
                                       f"called {new!r}; read as {new!r}")
            resolved["scaling"] = new
        self.config.data[section] = resolved
        if section in COMPONENT_SECTIONS:
            extra = {k: v for k, v in values.items() if k not in core}
            self.component(section, resolved, extra)

    def component(self, section: str, resolved: dict[str, Any], extra: dict[str, Any]) -> None:
        kind = COMPONENT_SECTIONS[section]
        name = resolved.get(kind.pick)
        if section == "generator" and not resolved.get("enabled"):
            return  # a disabled generator's options are not read, so not checked
        if name is None:
            for key in extra:
                self.problems.add(f"{section}.{key}", f"set [{section}] {kind.pick} first")
            return
        try:
            reg = self.registry.get(kind.name, name)
        except UnknownComponentError as exc:
            self.problems.add(f"{section}.{kind.pick}", exc.message)
            self.problems.error = UnknownComponentError
            return
        model = options_model(reg.target)
        fields = model.model_fields
        for key, value in list(extra.items()):
            field = fields.get(key)
            if field is not None and _mentions_path(field.annotation):
                base = Path.cwd() if f"{section}.{key}" in self.problems.overrides \
                    else self.base_dir
                extra[key] = _resolve(value, base)
        owner = f"{kind.label} {name!r}"
        if f"{section}.{kind.pick}" in self.problems.overrides:
            # switched component on the command line: the file's keys were for the old one
            for key in [k for k in extra if k not in fields
                        and f"{section}.{k}" not in self.problems.overrides]:
                self.problems.add(f"{section}.{key}", f"belongs to the file's {kind.label}, "
                                  f"not to {owner}",
                                  f"'{section}={{{kind.pick} = \"{name}\"}}' to replace the "
                                  f"whole section (or --unset {section}.{key})")
                del extra[key]
        missing = [k for k, f in fields.items() if f.is_required() and k not in extra]
        if missing and self.allow_missing:
            self.config.missing.extend(f"{section}.{k}" for k in missing)
            resolved.update(extra)
            return
        try:
            checked = model.model_validate_json(_to_json(extra), strict=True)
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                if error["type"] == "missing":
                    dotted = f"{section}.{error['loc'][0]}"
                    self.problems.add(dotted, f"{owner} needs this key", f"{dotted}=VALUE")
            others = [e for e in exc.errors() if e["type"] != "missing"]
            _report(self.problems, section, others, model, owner)
            return
        self.config.options[section] = {k: getattr(checked, k) for k in fields}
        resolved.update(checked.model_dump(mode="json"))

    def relations(self) -> None:
        """Checks across keys and sections."""
        data = self.config.data
        classes = data["data"].get("classes", [])
        if len(set(classes)) != len(classes):
            self.problems.add("data.classes", f"class names must be distinct, got {classes}")
        positive = data["data"].get("positive")
        if positive is not None and positive not in classes:
            self.problems.add("data.positive", f"{positive!r} is not one of classes {classes}")
        split = data["split"]
        if split["val"] + split["test"] >= 1.0:
            self.problems.add("split.val", f"val + test = {split['val'] + split['test']:g} "
                              "must leave images for training (below 1)")
        for name in data["evaluate"]["evaluators"]:
            if name not in self.registry.names("evaluator"):
                known = self.registry.names("evaluator")
                self.problems.add("evaluate.evaluators", f"unknown evaluator {name!r}"
                                  f"{did_you_mean(name, known)}; registered: {', '.join(known)}")
                self.problems.error = UnknownComponentError
        gen = data["generator"]
        if gen["enabled"]:
            if gen["name"] is None:
                self.problems.add("generator.name", "required when generator.enabled = true")
            if gen["balance_class"] not in classes:
                self.problems.add("generator.balance_class", f"{gen['balance_class']!r} is "
                                  f"not one of classes {classes}")


def validate(doc: dict[str, Any], *, origin: str, registry: Registry,
             overrides: dict[str, Any] | None = None, base_dir: Path | None = None,
             allow_missing: bool = False, flags: dict[str, str] | None = None) -> Config:
    """Check a parsed document against the schema and the registered components.

    :param base_dir: where relative ``Path`` options in the document resolve
        (the config file's folder); ``--set`` values resolve against the
        current directory.
    :param allow_missing: record required keys that are absent in
        ``Config.missing`` instead of failing (for ``presets show --resolved``).
    :param flags: the command-line flag that set an override, when not ``--set``
        (``{"run.seed": "--seed"}``), for messages.
    :raises ConfigError: listing every problem found.
    """
    return _Validator(doc, origin, registry, overrides or {}, base_dir or Path.cwd(),
                      allow_missing, flags or {}).run()
