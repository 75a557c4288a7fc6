"""The files of a folder that holds several runs: ``loso.json`` and ``comparison.json``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..contract.evidence import EvidenceLine
from .versioned import Part, RunFile


class HeldOutRow(Part):
    """One held-out run: its source, its test images and classes, and its test results."""

    source: str
    images: int | None = None
    classes: list[str] = Field(default_factory=list)
    accuracy: float | None = None
    sensitivity: float | None = None
    specificity: float | None = None
    roc_auc: float | None = None
    run: str = Field(description="the run's folder name, inside this folder")


class LosoVerdict(Part):
    """Does a model trained this way hold up on a source it never saw? One line per source."""

    reading: str = Field(description="the worst level among the lines, in words")
    level: str = Field(description="strong, some, none or unchecked")
    sentence: str = ""
    evidence: list[EvidenceLine] = Field(default_factory=list, description="one line per "
                                         "held-out source, then one per source not judged")


class LosoFile(RunFile):
    """``loso.json``: one run per held-out source, and each one's results on that source."""

    held_out: list[str] = Field(description="the sources held out, one run each")
    skipped: list[str] = Field(default_factory=list, description="sources with too few images "
                               "to hold out")
    min_images: int = Field(description="the fewest images a held-out source may have")
    failed: dict[str, str] = Field(default_factory=dict,
                                   description="source -> why its run failed")
    sources: list[HeldOutRow] = Field(default_factory=list, description="one row per run")
    verdict: LosoVerdict | None = Field(None, description="the verdict of the held-out "
                                        "results (absent in folders made before it)")


class ComparisonRow(Part):
    """One metric of one split, with and without the generator, and their paired difference."""

    split: str
    metric: str
    with_generator: float | None = None
    without_generator: float | None = None
    difference: float | None = None
    interval_low: float | None = None
    interval_high: float | None = None
    significant: bool | None = None
    degenerate: str = ""


class ComparisonFile(RunFile):
    """``comparison.json``: a config with and without its generator, side by side."""

    ablated: str = Field(description="the stage ablated (generator)")
    same_held_out_split: bool = Field(description="both runs held out the same images")
    runs: dict[str, str] = Field(description="with / without -> the run's folder name")
    images: dict[str, dict[str, int]] = Field(default_factory=dict,
                                              description="variant -> split -> images")
    generator: dict[str, Any] | None = Field(None, description="what the generator made")
    gan_quality: dict[str, Any] | None = Field(None, description="the synthetic assessors' "
                                               "results (each assessor's own)")
    metrics: list[ComparisonRow] = Field(default_factory=list)
