"""``data-audit.json``: what the data looked like before training, and what looked wrong.

Counts by class, source and view; duplicates; the split's counts and any
patient in two splits; confounding and demographics; the outside-the-lungs baseline
cross-validated over the whole dataset; the audit's warnings; and, when
``[audit] label_issues`` or ``outliers`` is on, the deep audit's ranked lists.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .metrics_file import baseline_name
from .versioned import Count, Part, RunFile


class SplitCounts(Part):
    """The split as the audit saw it."""

    by: str | None = None
    seed: int | None = None
    leaky: bool = False
    counts: dict[str, dict[str, int]] = Field(default_factory=dict,
                                              description="split -> class -> images")
    patients_in_several_splits: int = 0
    patients_by_splits: dict[str, int] = Field(default_factory=dict, description="how many "
                                               "of them sit in which splits (\"train+test\" "
                                               "-> patients)")


class Duplicates(Part):
    """Exact and near-duplicate images, and how many cross a split, a source or a patient."""

    exact: int = 0
    near: int = 0
    across_sources: int = 0
    across_splits: int = 0
    different_patients: int = 0
    conflicting_labels: int = 0
    pairs: list[dict[str, Any]] = Field(default_factory=list)


class PopulationFact(Part):
    """What a source declares about its patients (``StatesPopulation``)."""

    age_group: str | None = None
    fact: str = ""


class CrossValidatedBaseline(Part):
    """The outside-the-lungs baseline, cross-validated over the whole dataset (grouped by
    patient)."""

    status: str = Field("", description="done, skipped or failed")
    auc: float | None = None
    interval: list[float] | None = None
    flagged: bool = False
    finding: str | None = None
    reads: str | None = Field(None, description="what the baseline reads; absent in a run "
                              "whose baseline read pixel statistics over the whole image")

    @property
    def name(self) -> str:
        """What this baseline is called, by what it reads."""
        return baseline_name(self.reads)


class RankedImage(Part):
    """One image of a deep-audit list (label issue or outlier)."""

    path: str = Field(description="run-relative for what the run made, else absolute")
    label: str | None = None
    source: str | None = None
    patient_id: str | None = None
    suggested: str | None = Field(None, description="label issues: the label the data implies")
    self_confidence: float | None = Field(None, description="label issues: belief in the label")
    score: float | None = Field(None, description="outliers: distance over the class median")
    unusual: bool = Field(False, description="outliers: past the cut")


class RankedList(Part):
    """A deep-audit list: whether it ran, how many it flagged, and the top of the ranking."""

    status: str = Field("", description="done, skipped or failed")
    reason: str | None = None
    error: str | None = None
    images: Count | None = None
    issues: int | None = Field(None, description="label issues: images flagged")
    unusual: int | None = Field(None, description="outliers: images past the cut")
    oof_auc: float | None = None
    neighbours: int | None = None
    cut: float | None = None
    ranked: list[RankedImage] = Field(default_factory=list)


class DeepAudit(Part):
    """The frozen-feature searches: label issues and outliers."""

    label_issues: RankedList | None = None
    outliers: RankedList | None = None


class AuditFile(RunFile):
    """``data-audit.json``: counts, duplicates, leakage, confounding, the outside-the-lungs
    baseline."""

    images: Count | None = Field(None, description="images audited")
    patients: Count | None = Field(None, description="patients they belong to")
    synthetic: int = Field(0, description="generated images (training only)")
    by_class: dict[str, int] = Field(default_factory=dict)
    by_source: dict[str, dict[str, int]] = Field(default_factory=dict,
                                                 description="source -> class -> images")
    by_view: dict[str, dict[str, int]] = Field(default_factory=dict,
                                               description="view -> class -> images")
    decode_failures: list[Any] = Field(default_factory=list)
    duplicates: Duplicates | None = None
    split: SplitCounts | None = None
    confounding: dict[str, Any] | None = None
    demographics: dict[str, Any] | None = None
    population_facts: dict[str, PopulationFact] = Field(default_factory=dict)
    population_by_class: dict[str, Any] | None = None
    shortcut_baseline: CrossValidatedBaseline | None = None
    warnings: list[str] = Field(default_factory=list, description="one sentence each")
    deep: DeepAudit | None = None
