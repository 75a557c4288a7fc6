"""Build a fake installed distribution that declares a ``bamnet`` entry point."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_fake_distribution(root: Path, name: str, module_source: str, ep_name: str) -> None:
    """Create an importable module and a .dist-info declaring a ``bamnet`` entry point."""
    module = name.replace("-", "_")
    (root / f"{module}.py").write_text(textwrap.dedent(module_source), encoding="utf-8")
    info = root / f"{module}-0.3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.3.0\n")
    (info / "entry_points.txt").write_text(f"[bamnet]\n{ep_name} = {module}\n")
