"""A validated config: every section resolved, defaults filled in, components built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tomli_w

from .schema import core_keys


@dataclass
class Config:
    """A validated config with every default filled in.

    :param data: the resolved document (section -> key -> value), in TOML
        types: ``config.toml`` is this, and it reruns the same experiment.
    :param origin: where it came from (preset file or path), for messages.
    :param overrides: ``{dotted key: value}`` given with ``--set``/``--unset``.
    :param options: per component section, the validated Python values its
        factory receives (``Path`` objects, tuples, ...).
    :param components: the instantiated components (see
        :class:`~.components.Components`); ``None`` when required values were
        allowed to be missing.
    :param notices: one-line remarks for the user (renamed values, ...).
    :param missing: required keys that were allowed to be missing (``presets
        show --resolved`` marks them).
    """

    data: dict[str, Any]
    origin: str
    overrides: dict[str, Any] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    components: Any = None
    notices: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.data[section]

    def component_options(self, section: str) -> dict[str, Any]:
        """The validated keyword arguments for the component of a section."""
        return dict(self.options.get(section, {}))

    def component_keys(self, section: str) -> dict[str, Any]:
        """The component's keys of a section, as written in ``config.toml``."""
        core = core_keys(section)
        return {k: v for k, v in self.data[section].items() if k not in core}

    def to_toml(self) -> str:
        """The resolved config as TOML: enough to rerun the same experiment."""
        return tomli_w.dumps(_drop_none(self.data))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
