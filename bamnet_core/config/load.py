"""Preset name or TOML path -> a validated, fully resolved config with its components built.

:func:`load_config` is the one entry point: read the file, apply ``--unset``
and ``--set``, validate everything (:mod:`.validate`), then instantiate every
component (:mod:`.components`), so a bad value fails in a fraction of a
second, before any image is decoded or any folder is created.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .._util.capped import MiB, TooLarge, read_text
from ..errors import ConfigError
from ..plugins.registry import Registry
from .components import build_components
from .overrides import apply_overrides
from .resolved import Config
from .validate import validate

DATA_ENV = "BAMNET_DATA"
DATA_KEPT = ("classes", "positive", "limit_per_class")  # what --data leaves of [data]


def resolve_config_path(ref: str, registry: Registry) -> Path:
    """A preset name resolves to its file; otherwise ``ref`` must be a TOML path."""
    if ref in registry.names("preset"):
        return Path(registry.get("preset", ref).target)
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    known = ", ".join(registry.names("preset")) or "(none)"
    if path.exists():
        raise ConfigError(f"{ref!r} is not a regular file", hint="pass the path of a .toml file")
    raise ConfigError(
        f"{ref!r} is neither a preset nor a config file; presets: {known}",
        hint="`bamnet presets list` shows the presets; or pass the path of a .toml file",
    )


CONFIG_MAX_BYTES = 1 * MiB  # a config file, a run's config.toml included


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax and read errors into :class:`ConfigError`."""
    try:
        return tomllib.loads(read_text(path, CONFIG_MAX_BYTES))
    except TooLarge as exc:
        raise ConfigError(str(exc), hint="a config is a short TOML text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}",
                          hint="fix the syntax at that line") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file",
                          hint="a config is a TOML text file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def data_base(ref: str, path: Path, registry: Registry) -> Path:
    """Where relative paths in a config resolve: a preset's against ``BAMNET_DATA`` (else the
    current folder), since a preset ships inside a package; a file's against its folder."""
    if ref in registry.names("preset"):
        root = os.environ.get(DATA_ENV)
        return Path(root).expanduser() if root else Path.cwd()
    return path.resolve().parent


def load_config(ref: str, registry: Registry, *, overrides: list[str] | None = None,
                unsets: list[str] | None = None, seed: int | None = None,
                allow_missing: bool = False, data: dict[str, Any] | None = None) -> Config:
    """Resolve ``ref`` (preset name or path), apply overrides, validate, build components.

    :param ref: a registered preset name or the path of a TOML file.
    :param overrides: ``section.key=value`` (or ``section={...}``) strings, in order.
    :param unsets: ``section.key`` strings removed before the overrides apply.
    :param seed: if given, replaces ``run.seed``.
    :param allow_missing: do not fail on required keys nobody set; list them in
        ``Config.missing`` and build no components.
    :param data: ``{"source": NAME, **options}`` to read instead of the config's own
        sources (``bamnet run --data PATH``); classes, positive class and
        ``limit_per_class`` stay the config's. Applied before the overrides.
    :raises ConfigError: listing every problem (or a plugin's error from a factory).
    """
    path = resolve_config_path(ref, registry)
    doc = read_toml(path)
    flags: dict[str, str] = {}
    given: dict[str, Any] = {}
    if data is not None:
        kept = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        doc["data"] = {**{k: kept[k] for k in DATA_KEPT if k in kept}, **data}
        given = {f"data.{k}": v for k, v in data.items()}
        flags.update({key: "--data" for key in given})
    applied = {**given, **apply_overrides(doc, list(overrides or []), list(unsets or []))}
    if seed is not None:
        run = doc.setdefault("run", {})
        if isinstance(run, dict):
            run["seed"] = seed
        applied["run.seed"] = seed
        flags["run.seed"] = "--seed"
    return _build(doc, origin=str(path), registry=registry, overrides=applied,
                  base_dir=data_base(ref, path, registry), allow_missing=allow_missing,
                  flags=flags)


def _build(doc: dict[str, Any], *, origin: str, registry: Registry, overrides: dict[str, Any],
           base_dir: Path, allow_missing: bool, flags: dict[str, str]) -> Config:
    """Validate ``doc`` and build its components; the config can rebuild its variants."""
    config = validate(doc, origin=origin, registry=registry, overrides=overrides,
                      base_dir=base_dir, allow_missing=allow_missing, flags=flags)
    if not config.missing:
        config.components = build_components(config, registry)

    def rebuild(document: dict[str, Any], changed: dict[str, Any]) -> Config:
        return _build(document, origin=origin, registry=registry, overrides=changed,
                      base_dir=base_dir, allow_missing=False, flags=flags)

    config.rebuild = rebuild
    return config
