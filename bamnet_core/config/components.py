"""Instantiate every component a config names, before any work starts.

A factory that refuses its options (raises :class:`ValueError` or a
:class:`~bamnet_core.errors.ConfigError`) is a config problem named by its
section; anything else it raises is a fault of its plugin
(:class:`~bamnet_core.errors.PluginFault`). What a factory returns must
satisfy its kind's protocol.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic

from ..contract.capabilities import Downloadable, NeedsFiles
from ..contract.kinds import BY_NAME, COMPONENT_SECTIONS, LISTED_SECTIONS
from ..errors import BamnetError, ConfigError, DataError, PluginError
from ..plugins.faults import Guarded, contain
from ..plugins.options import options_model
from ..plugins.registry import Registration, Registry
from .built import Components
from .problems import did_you_mean, humanise
from .resolved import Config


def validated_options(reg: Registration, values: dict[str, Any], *, where: str) -> dict[str, Any]:
    """``values`` (TOML-typed) validated against ``reg``'s factory signature.

    :param where: how messages name where the values came from (``--option``).

    :raises ConfigError: every bad or unknown key, with what the factory accepts.
    """
    model = options_model(reg.target)
    try:
        checked = model.model_validate_json(json.dumps(values, default=str), strict=True)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            if error["type"] == "extra_forbidden":
                problems.append(f"{where} {key}: unknown option for {reg.label}"
                                f"{did_you_mean(key, model.model_fields)}")
            else:
                problems.append(f"{where} {key}: {humanise(error['msg'])}")
        raise ConfigError("; ".join(problems),
                          hint=f"{reg.label} accepts: "
                               f"{', '.join(model.model_fields) or '(no options)'}") from None
    return {k: getattr(checked, k) for k in model.model_fields}


def instantiate(reg: Registration, options: dict[str, Any], *, where: str,
                validate: bool = False) -> Any:
    """Call ``reg``'s factory with ``options`` and check what it returns.

    :param where: how messages name the place, e.g. ``"tiny.toml: [backbone]"``.
    :param validate: ``options`` are raw TOML values: validate them first.
    :returns: the component, :class:`~bamnet_core.plugins.faults.Guarded` so
        that what its methods raise is named as its plugin's fault.
    """
    if validate:
        options = validated_options(reg, options, where=where)

    def refused(exc: Exception) -> BamnetError | None:
        if not isinstance(exc, ValueError):
            return None
        return ConfigError(f"{where}: {reg.label} refused its options: {exc}",
                           hint=f"fix the {reg.label} options; `bamnet presets show NAME "
                                "--resolved` lists them with their defaults")

    made = contain(reg.target, reg.label, reg.distribution, translate=refused)(**options)
    accepted = BY_NAME[reg.kind].protocols()
    if accepted and not isinstance(made, accepted):
        names = " or ".join(p.__name__ for p in accepted)
        raise PluginError(f"{reg.label} from plugin {reg.distribution!r}: its factory returned "
                          f"{type(made).__name__}, which does not satisfy {names}",
                          hint=f"this is a fault in {reg.distribution}: report it to its authors")
    return Guarded(reg, made)


def build_components(config: Config, registry: Registry) -> Components:
    """Instantiate the source(s), backbone, generator (if enabled), lung-field estimator and
    evaluators of ``config``.

    The kind of each section's component comes from the table of kinds
    (:data:`~bamnet_core.contract.kinds.KINDS`).
    """
    built: dict[str, Registration] = {}

    def named(key: str, name: str) -> Any:
        """The component a section (or one of its tables, ``data.sources[0]``) names."""
        reg = registry.get(COMPONENT_SECTIONS[key.split(".")[0]].name, name)
        built[key] = reg
        where = f"--set {key}" if any(k.startswith(f"{key}.") for k in config.overrides) \
            else f"{config.origin}: [{key}]"
        return instantiate(reg, config.component_options(key), where=where)

    source, sources = None, []
    if config.data.sources:
        for i, entry in enumerate(config.data.sources):
            sources.append((entry["id"], named(f"data.sources[{i}]", entry["source"])))
    else:
        source = named("data", config.data.source)
    backbone = named("backbone", config.backbone.name)
    generator = named("generator", config.generator.name) if config.generator.enabled else None
    lungs = named("lungs", config.lungs.estimator) if config.lungs.estimator else None
    listed = LISTED_SECTIONS["evaluate"]
    evaluators = {}
    for name in config.evaluate.evaluators:
        reg = registry.get(listed.name, name)
        built[f"evaluate.{name}"] = reg
        evaluators[name] = instantiate(reg, config.evaluate.options.get(name, {}),
                                       where=f"{config.origin}: [evaluate.options.{name}]",
                                       validate=True)
    return Components(source=source, backbone=backbone, generator=generator,
                      evaluators=evaluators, registrations=built, sources=sources, lungs=lungs)


_DATA_MARK = "data of "
DATA_HINT = ("BAMNET_DATA to the folder that holds the datasets (for a preset), or point the run "
             "at other data with --data PATH")


def check_inputs(config: Config) -> None:
    """Refuse a run whose data or files are missing, naming every one and its fix at once.

    Each source's ``root`` or ``path`` must exist (a missing public dataset
    gets its ``bamnet data fetch`` command), and so must ``[lungs] masks`` when
    given; every component that ``NeedsFiles`` is asked what it lacks (VGG16's
    ImageNet weights).

    :raises DataError: listing each missing input; the hint has each fix.
    """
    components = config.components
    keys = [f"data.sources[{i}]" for i in range(len(components.sources))] or ["data"]
    missing: list[tuple[str, str]] = []
    for key in keys:
        place = _data_place(config.component_options(key))
        if place is not None and not place.exists():
            reg = components.registrations[key]
            fix = f"bamnet data fetch {reg.name} --dest {place.parent}" \
                if isinstance(reg.target, Downloadable) else "check the path in the [data] section"
            missing.append((f"{_DATA_MARK}{reg.name} ({place}: not found)", fix))
    for part in (components.backbone, components.generator):
        if isinstance(part, NeedsFiles):
            missing.extend(part.missing_files())
    masks = config.lungs.masks
    wrong = None if masks is None else _not_masks(Path(masks).expanduser(), config.lungs.column)
    if wrong is not None:
        missing.append((f"lung masks ({masks}: {wrong})",
                        "check [lungs] masks: a folder of masks, or a CSV naming them "
                        "([lungs] column)"))
    if missing:
        data = [how for what, how in missing if what.startswith(_DATA_MARK)]
        hints = list(dict.fromkeys(data + ([f"or set {DATA_HINT}"] if data else []) +
                                   [how for what, how in missing
                                    if not what.startswith(_DATA_MARK)]))
        raise DataError(f"{len(missing)} input(s) this run needs are missing: "
                        + "; ".join(what for what, _ in missing), hint="; ".join(hints))


def _data_place(options: dict[str, Any]) -> Path | None:
    """The folder or file a source's ``root`` or ``path`` option names, if it names one."""
    value = options.get("root") or options.get("path")
    if not isinstance(value, (str, Path)) or not str(value) or "://" in str(value):
        return None  # not a local place (a URL is the source's own business)
    return Path(value).expanduser()


def _not_masks(place: Path, column: str | None) -> str | None:
    """Why ``place`` cannot hold the user's lung masks (``[lungs] masks``), or None: it must be a
    folder, or a regular CSV file when ``[lungs] column`` names its mask column."""
    if not place.exists():
        return "a symbolic link that leads nowhere or loops" if place.is_symlink() \
            else "not found"
    if place.is_dir():
        return None
    if not place.is_file():
        return "not a folder or a regular file (a FIFO or a device?)"
    return None if column else "a file, but no [lungs] column names its mask column"
