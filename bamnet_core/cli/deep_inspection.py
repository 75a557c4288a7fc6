"""``bamnet data inspect --deep``: checks on the audit options and the deep-audit callable."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._util.progress import ProgressCallback
from ..contract.sample import Sample
from ..data.contact_sheet import contact_sheet
from ..data.inspection import DeepAudit
from ..errors import ConfigError
from ..experiment.deep_audit import deep_audit, deep_warnings, feature_backbone
from ..plugins.registry import Registry


def check_audit_options(shortcut: float, feature_size: int, deep: bool,
                        thumbnails: Path | None) -> None:
    """Refuse out-of-range audit options before any decode."""
    if not math.isfinite(shortcut) or not (shortcut == 0 or 0.5 <= shortcut <= 1):
        raise ConfigError(f"--shortcut must be 0 (off) or between 0.5 and 1, got {shortcut}",
                          hint="the default 0.75 flags an outside-the-lungs AUC of 0.75 or more")
    if not 16 <= feature_size <= 512:
        raise ConfigError(f"--feature-size must be between 16 and 512, got {feature_size}")
    if thumbnails is not None and not deep:
        raise ConfigError("--thumbnails needs --deep", hint="add --deep")
    if thumbnails is not None and thumbnails.exists() and not thumbnails.is_dir():
        raise ConfigError(f"--thumbnails {thumbnails}: exists and is not a folder",
                          hint="pass a folder (it is created if missing)")


def deep_inspection(registry: Registry, features: str, size: int, seed: int,
                    thumbnails: Path | None) -> DeepAudit:
    """The callable ``inspect_dataset`` runs on the decodable samples for ``--deep``."""
    backbone = feature_backbone(registry, features)  # an unknown name fails before decoding

    def run(samples: Sequence[Sample], progress: ProgressCallback
            ) -> tuple[dict[str, Any], list[str]]:
        report = deep_audit(samples, backbone, size=size, seed=seed, progress=progress)
        if thumbnails is not None:
            report["thumbnails"] = write_thumbnails(report, thumbnails)
        return report, deep_warnings(report)

    return run


def write_thumbnails(report: dict[str, Any], folder: Path) -> dict[str, str]:
    """Contact sheets of the ranked label issues and outliers; name -> PNG path."""
    written: dict[str, str] = {}
    for name, key, title in (("label_issues", "self_confidence", "likely mislabelled"),
                             ("outliers", "score", "most unusual in their class")):
        rows = (report.get(name) or {}).get("ranked") or []
        path = contact_sheet(rows, folder / f"{name.replace('_', '-')}.png", score_key=key,
                             title=f"{title} (ranked)")
        if path is not None:
            written[name] = str(path)
    return written
