"""Configuration: the schema of a run, ``--set`` overrides, validation, and the built components.

``load_config("quickstart", registry)`` returns a :class:`Config` whose every
value is checked and whose every component is instantiated, or raises one
:class:`~bamnet_core.errors.ConfigError` naming each bad key.
"""

from __future__ import annotations

from .built import Components
from .components import build_components, instantiate
from .load import load_config, read_toml, resolve_config_path
from .overrides import apply_overrides, parse_assignment, parse_value
from .resolved import Config
from .schema import SECTIONS

__all__ = ["SECTIONS", "Components", "Config", "apply_overrides", "build_components",
           "instantiate", "load_config", "parse_assignment", "parse_value", "read_toml",
           "resolve_config_path"]
