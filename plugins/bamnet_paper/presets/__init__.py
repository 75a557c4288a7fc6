"""Built-in presets: TOML files beside this module, registered by name."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bamnet_core.contract import hookimpl

PRESET_DIR = Path(__file__).parent


@hookimpl
def register_presets(register):
    """Register every ``*.toml`` here under its file stem."""
    for path in sorted(PRESET_DIR.glob("*.toml")):
        with open(path, "rb") as fh:
            description = tomllib.load(fh).get("run", {}).get("description", "")
        register(path.stem, path, description=description)
