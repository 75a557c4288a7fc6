"""Check a parsed config document: core sections, each component's options, their relations.

Values are validated by pydantic in strict JSON mode, since TOML values are
JSON values: integers are not booleans, strings are not numbers, arrays
become tuples where a tuple is annotated, strings become ``Path`` objects.
Every problem is collected (:mod:`.problems`) before one error is raised.
Relative paths in options annotated ``Path`` resolve against the config
file's folder, or the current directory for ``--set`` values.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pydantic

from ..contract.kinds import COMPONENT_SECTIONS, LISTED_SECTIONS, ComponentKind
from ..errors import UnknownComponentError
from ..imaging.preprocess import SCALING_ALIASES
from ..plugins.options import options_model
from ..plugins.registry import Registry
from .paths import mentions_path, resolve_path
from .problems import Problems, did_you_mean, report_errors
from .resolved import Config
from .schema import MOVED_KEYS, SECTIONS, Section, core_keys


def _to_json(values: dict[str, Any]) -> str:
    return json.dumps(values, default=str)


class _Validator:
    def __init__(self, doc: dict[str, Any], origin: str, registry: Registry,
                 overrides: dict[str, Any], base_dir: Path, allow_missing: bool,
                 flags: dict[str, str]) -> None:
        self.doc, self.registry, self.base_dir = copy.deepcopy(doc), registry, base_dir
        self.allow_missing = allow_missing
        self.problems = Problems(origin, overrides, flags)
        self.config = Config(document={}, origin=origin, overrides=overrides)

    def run(self) -> Config:
        self.moved()
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

    def moved(self) -> None:
        """Read each key that moved into an evaluator's options as its new key, with a notice
        (a run folder made before keeps resuming)."""
        for (section, key), (evaluator, option) in MOVED_KEYS.items():
            table: Any = self.doc
            for part in section.split("."):
                table = table.get(part) if isinstance(table, dict) else None
            if not isinstance(table, dict) or key not in table:
                continue
            value = table.pop(key)
            evaluate = self.doc.setdefault("evaluate", {})
            new = f"[evaluate.options.{evaluator}] {option}"
            listed = evaluate.get("evaluators") if isinstance(evaluate, dict) else None
            if not isinstance(evaluate, dict) or (isinstance(listed, list)
                                                  and evaluator not in listed):
                self.config.notices.append(f"{section}.{key} is now {new}, and {evaluator!r} "
                                           "is not in evaluate.evaluators: ignored")
                continue
            options = evaluate.setdefault("options", {})
            if isinstance(options, dict) and isinstance(options.setdefault(evaluator, {}), dict):
                options[evaluator].setdefault(option, value)
                self.config.notices.append(f"{section}.{key} is now {new}; read as that")

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
                report_errors(self.problems, section, exc.errors(), model, f"[{section}]")
            self.config.document[section] = {k: v for k, v in own.items()}
            return
        if section == "evaluate" and checked.evaluators is None:  # the plugins' defaults
            checked = checked.model_copy(update={"evaluators": self.registry.defaults(
                LISTED_SECTIONS["evaluate"].name)})
        if section == "lungs":
            checked = self.lungs(checked)
        resolved = checked.model_dump(mode="json")
        resolved = {k: v for k, v in resolved.items() if k in model.model_fields}
        if section == "preprocess" and resolved["scaling"] in SCALING_ALIASES:
            new = SCALING_ALIASES[resolved["scaling"]]
            self.config.notices.append(f"preprocess.scaling {resolved['scaling']!r} is now "
                                       f"called {new!r}; read as {new!r}")
            resolved["scaling"] = new
            checked = checked.model_copy(update={"scaling": new})
        self.config.document[section] = resolved
        self.config.sections[section] = checked
        if section in COMPONENT_SECTIONS:
            extra = {k: v for k, v in values.items() if k not in core}
            self.component(section, resolved, extra)
            if section == "data" and resolved.get("sources") is not None:
                self.config.sections[section] = checked.model_copy(
                    update={"sources": resolved["sources"]})

    def lungs(self, checked: Any) -> Any:
        """``[lungs]``: the default estimator filled in; ``masks`` made absolute; ``column``
        only with a CSV of masks, and needed by one."""
        update: dict[str, Any] = {}
        if checked.estimator is None:
            defaults = self.registry.defaults(COMPONENT_SECTIONS["lungs"].name)
            if defaults:
                update["estimator"] = defaults[0]
        if checked.masks is not None:
            base = Path.cwd() if self.problems.given("lungs.masks") else self.base_dir
            update["masks"] = resolve_path(checked.masks, base)
            is_csv = checked.masks.lower().endswith(".csv")
            if is_csv and checked.column is None:
                self.problems.add("lungs.column", "name the column of the masks CSV that "
                                  "holds each image's mask file", 'lungs.column="mask"')
            elif not is_csv and checked.column is not None:
                self.problems.add("lungs.column", "a column is read from a CSV of masks; "
                                  "[lungs] masks names a folder", "--unset lungs.column")
        elif checked.column is not None:
            self.problems.add("lungs.column", "set [lungs] masks to the CSV that holds this "
                              "column first")
        return checked.model_copy(update=update)

    def component(self, section: str, resolved: dict[str, Any], extra: dict[str, Any]) -> None:
        kind = COMPONENT_SECTIONS[section]
        if section == "generator" and not resolved.get("enabled"):
            return  # a disabled generator's options are not read, so not checked
        if section == "data" and resolved.get("sources") is not None:
            self.data_sources(resolved, extra)
            return
        name = resolved.get(kind.pick)
        if name is None:
            for key in extra:
                self.problems.add(f"{section}.{key}", f"set [{section}] {kind.pick} first")
            return
        checked = self.options_of(kind, name, section, extra, switched=f"{section}.{kind.pick}"
                                  in self.problems.overrides)
        if checked is not None:
            self.config.options[section], dumped = checked
            # an option named like the pick (image-folder's own `source`) never replaces it
            resolved.update({k: v for k, v in dumped.items() if k != kind.pick})
        else:
            resolved.update(extra)

    def data_sources(self, resolved: dict[str, Any], extra: dict[str, Any]) -> None:
        """``[[data.sources]]``: several sources, each a table with ``source`` and its options."""
        kind = COMPONENT_SECTIONS["data"]
        if resolved.get("source") is not None or extra:
            self.problems.add("data.sources", "give either [data] source (and its options) or "
                              "[[data.sources]] tables, not both")
            return
        seen: set[str] = set()
        for i, entry in enumerate(resolved["sources"]):
            prefix = f"data.sources[{i}]"
            name = entry.get("source")
            if not isinstance(name, str):
                self.problems.add(f"{prefix}.source", "each [[data.sources]] table needs "
                                  "source = NAME", '\'data.sources=[{source = "image-folder", '
                                  'root = "..."}]\'')
                continue
            ident = entry.get("id", name)
            if not isinstance(ident, str) or ident in seen:
                self.problems.add(f"{prefix}.id", f"id {ident!r} is used twice (or is not "
                                  "text); give each source of one kind its own id")
                continue
            seen.add(ident)
            options = {k: v for k, v in entry.items() if k not in ("source", "id")}
            checked = self.options_of(kind, name, prefix, options, switched=False)
            if checked is not None:
                self.config.options[prefix], dumped = checked
                own = {k: v for k, v in dumped.items() if k not in ("source", "id")}
                resolved["sources"][i] = {"source": name, "id": ident, **own}

    def options_of(self, kind: ComponentKind, name: str, prefix: str, extra: dict[str, Any],
                   *, switched: bool) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Validate a component's options; (Python values, TOML values), or None on problems."""
        try:
            reg = self.registry.get(kind.name, name)
        except UnknownComponentError as exc:
            self.problems.add(f"{prefix}.{kind.pick}", exc.message)
            self.problems.error = UnknownComponentError
            return None
        model = options_model(reg.target)
        fields = model.model_fields
        for key, value in list(extra.items()):
            field = fields.get(key)
            if field is not None and mentions_path(field.annotation):
                base = Path.cwd() if self.problems.given(f"{prefix}.{key}") else self.base_dir
                extra[key] = resolve_path(value, base)
        owner = f"{kind.label} {name!r}"
        if switched:
            # switched component on the command line: the file's keys were for the old one
            for key in [k for k in extra if k not in fields
                        and f"{prefix}.{k}" not in self.problems.overrides]:
                self.problems.add(f"{prefix}.{key}", f"belongs to the file's {kind.label}, "
                                  f"not to {owner}",
                                  f"'{prefix}={{{kind.pick} = \"{name}\"}}' to replace the "
                                  f"whole section (or --unset {prefix}.{key})")
                del extra[key]
        missing = [k for k, f in fields.items() if f.is_required() and k not in extra]
        if missing and self.allow_missing:
            self.config.missing.extend(f"{prefix}.{k}" for k in missing)
            return None
        try:
            checked = model.model_validate_json(_to_json(extra), strict=True)
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                if error["type"] == "missing":
                    dotted = f"{prefix}.{error['loc'][0]}"
                    self.problems.add(dotted, f"{owner} needs this key", f"{dotted}=VALUE")
            others = [e for e in exc.errors() if e["type"] != "missing"]
            report_errors(self.problems, prefix, others, model, owner)
            return None
        return {k: getattr(checked, k) for k in fields}, checked.model_dump(mode="json")

    def relations(self) -> None:
        """Checks across keys and sections."""
        data = self.config.document
        if data["data"].get("source") is None and data["data"].get("sources") is None:
            self.problems.add("data.source", "name a dataset source, or list several as "
                              "[[data.sources]] tables", 'data.source="image-folder"')
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
        for section, kind in LISTED_SECTIONS.items():  # [evaluate] evaluators
            known = self.registry.names(kind.name)
            for name in data[section][kind.pick]:
                if name not in known:
                    self.problems.add(f"{section}.{kind.pick}", f"unknown {kind.label} {name!r}"
                                      f"{did_you_mean(name, known)}; registered: "
                                      f"{', '.join(known)}")
                    self.problems.error = UnknownComponentError
        for name in data["evaluate"]["options"]:
            if name not in data["evaluate"]["evaluators"]:
                listed = ", ".join(data["evaluate"]["evaluators"])
                self.problems.add(f"evaluate.options.{name}", f"options for {name!r}, which is "
                                  f"not in evaluate.evaluators ({listed}): add it there, or "
                                  "drop its options")
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
