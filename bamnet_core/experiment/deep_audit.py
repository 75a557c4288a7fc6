"""The deep audit: label issues and outliers from frozen-backbone features.

``bamnet data inspect --deep`` and a run with ``[audit] label_issues`` or
``outliers`` call :func:`deep_audit`. It lives above ``train`` because it runs a
Keras backbone; the searches themselves are plain functions of a feature
matrix in :mod:`bamnet_core.data.label_issues` and :mod:`bamnet_core.data.outliers`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .._util.progress import ProgressCallback, silent
from .._util.threads import native_threads
from ..config.components import instantiate
from ..contract.sample import Sample
from ..data.label_issues import label_issues
from ..data.outliers import find_outliers
from ..imaging.preprocess import PreprocessSpec
from ..imaging.properties import LungSource
from ..plugins.registry import Registry
from .audit_features import frozen_features

DEFAULT_FEATURES = "small-cnn"
DEFAULT_SIZE = 64


def feature_backbone(registry: Registry, name: str = DEFAULT_FEATURES,
                     options: dict[str, Any] | None = None) -> Any:
    """Build the backbone whose frozen features the deep audit uses."""
    reg = registry.get("backbone", name)
    return instantiate(reg, dict(options or {}), where=f"audit features {name!r}",
                       validate=True)


def deep_audit(samples: Sequence[Sample], backbone: Any, *, size: int = DEFAULT_SIZE,
               label_issues_on: bool = True, outliers_on: bool = True, seed: int = 0,
               lungs: LungSource | None = None,
               progress: ProgressCallback = silent) -> dict[str, Any]:
    """Label issues and outliers of ``samples`` (real images only; failures skipped).

    :param backbone: a built backbone (see :func:`feature_backbone`).
    :param lungs: the lung-field source of the audit that follows: each image decoded
        here is described outside its fields too, so that audit decodes none.
    :param size: square input size of the features.
    :returns: ``{"features": {...}, "label_issues": {...}, "outliers": {...}}``.
    """
    start = time.perf_counter()
    real = [s for s in samples if not s.synthetic]
    spec = PreprocessSpec(size=size, channels=3, scaling="unit")
    features, loaded = frozen_features(real, backbone, spec, seed=seed, lungs=lungs,
                                       progress=progress)
    report: dict[str, Any] = {"features": {"images": len(loaded.samples),
                                           "dimensions": int(features.shape[1]),
                                           "size": size, "undecodable": len(loaded.errors)}}
    with native_threads():
        if label_issues_on:
            report["label_issues"] = label_issues(loaded.samples, features, seed=seed,
                                                  progress=progress)
        if outliers_on:
            report["outliers"] = find_outliers(loaded.samples, features, seed=seed,
                                               progress=progress)
    report["seconds"] = round(time.perf_counter() - start, 2)
    return report


def deep_warnings(report: dict[str, Any]) -> list[str]:
    """Human sentences for what the deep audit found."""
    out: list[str] = []
    issues = report.get("label_issues") or {}
    if issues.get("issues"):
        top = ", ".join(r["path"].rsplit("/", 1)[-1] for r in issues["ranked"][:3])
        out.append(f"{issues['issues']} image(s) look mislabelled (confident learning on "
                   f"out-of-sample probabilities), most suspicious first: {top}")
    outliers = report.get("outliers") or {}
    if outliers.get("unusual"):
        top = ", ".join(r["path"].rsplit("/", 1)[-1] for r in outliers["ranked"][:3])
        out.append(f"{outliers['unusual']} image(s) are unlike the rest of their class "
                   f"(lateral views, CT, figures, non-chest images?), most unusual first: {top}")
    return out
