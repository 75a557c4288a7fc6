"""``metrics.json``: each evaluator's results per split, their evidence, and the core's entries.

Per split, an evaluator's JSON results sit under ``evaluators`` by its name (a
failed one's entry is ``{"error": "..."}``); the verdict lines it brings sit
under ``evidence``, and the split's headline numbers under ``headline``
(``headline_from`` names the evaluator that measured them). What an evaluator
returns is its own (``dict[str, Any]``); the rest is the core's, and typed.

A file written before these three keys existed kept each evaluator's results
beside ``images`` and ``patients``; it is read with them moved under
``evaluators`` (:meth:`SplitMetrics.flat_shape`), so old run folders and
writers of the flat shape still read.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ..contract.evidence import EvidenceLine, Headline
from .versioned import Count, Part, RunFile

SPLIT_KEYS = ("images", "patients", "evaluators", "evidence", "headline", "headline_from")


class SplitMetrics(Part):
    """One evaluated split: its size, each evaluator's results and evidence, its headline."""

    images: Count | None = Field(None, description="images evaluated")
    patients: Count | None = Field(None, description="patients they belong to")
    evaluators: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="evaluator name -> its JSON results (its own shape)")
    evidence: dict[str, list[EvidenceLine]] = Field(
        default_factory=dict, description="evaluator name -> the verdict lines it brings")
    headline: Headline | None = Field(None, description="the split's headline numbers")
    headline_from: str | None = Field(None, description="the evaluator that measured them")

    @model_validator(mode="before")
    @classmethod
    def flat_shape(cls, data: Any) -> Any:
        """Evaluator results kept beside ``images`` (the shape before ``evaluators``) moved in."""
        if not isinstance(data, dict):
            return data
        loose = {k: v for k, v in data.items() if k not in SPLIT_KEYS}
        if not loose:
            return data
        kept = {k: v for k, v in data.items() if k in SPLIT_KEYS}
        return {**kept, "evaluators": {**loose, **(kept.get("evaluators") or {})}}

    def results(self, evaluator: str) -> dict[str, Any] | None:
        """What ``evaluator`` returned on this split, or None when it did not run."""
        found = self.evaluators.get(evaluator)
        return found if isinstance(found, dict) else None


class HeadlineChoice(Part):
    """Which split gives the headline numbers, and why."""

    split: str = Field(description="the split (test, else val)")
    note: str = Field("", description="why that split")


class EvaluatorError(Part):
    """An evaluator that failed on a split; the run's other results stand."""

    split: str
    evaluator: str
    error: str


class SplitProtocol(Part):
    """How the run split its data."""

    by: str = Field(description="patient or image")
    leaky: bool = Field(description="images of one patient may sit in two splits")


class FittedOn(Part):
    """What a generator learnt from: its images and patients, and how many were held out."""

    images: Count | None = None
    patients: Count | None = None
    held_out_images_seen: int = Field(0, description="validation or test images (should be 0)")
    held_out_patients_seen: int = Field(0, description="validation or test patients (0 "
                                        "on a patient split; reported on an image split)")

    @property
    def held_out_seen(self) -> int:
        """Held-out images and patients the generator learnt from, together."""
        return self.held_out_images_seen + self.held_out_patients_seen


class GeneratorSummary(Part):
    """What the generator made for training (the rest of its record is kept as written)."""

    name: str | None = None
    balance_class: str | None = Field(None, alias="class")
    real: int | None = Field(None, description="real training images of that class")
    target: int | None = Field(None, description="the count it balanced towards")
    synthetic: int = Field(0, description="images it made")
    note: str | None = Field(None, description="why it made none, when it made none")
    fitted_on: FittedOn = Field(default_factory=FittedOn, description="what it learnt "
                                "from, and how much of it was held out (should be 0)")

    model_config = {"populate_by_name": True, "extra": "allow"}


class PairedDifference(Part):
    """The model's ROC-AUC minus the baseline's on the same images, patients resampled."""

    value: float | None = None
    interval: list[float] | None = Field(None, description="its 95% interval (paired)")
    images: Count | None = None
    paired: str | None = Field(None, description="how the two were paired")


class PropertyBaseline(Part):
    """The lung-blind baseline's score on one split: image properties only."""

    auc: float | None = None
    interval: list[float] | None = Field(None, description="its 95% interval")
    images: Count | None = None
    difference: PairedDifference | None = Field(None, description="the model's lead over it")


class ShortcutBaseline(Part):
    """The lung-blind baseline on the split the model is scored on, beside the model."""

    split: str | None = None
    baseline: PropertyBaseline | None = Field(None, description="its ROC-AUC, interval, images "
                                              "and the paired difference to the model")
    model_auc: float | None = None
    model_interval: list[float] | None = None
    sentence: str | None = Field(None, description="the comparison in one sentence")

    @property
    def baseline_auc(self) -> float | None:
        """The baseline's ROC-AUC, when it was measured."""
        return self.baseline.auc if self.baseline else None


class SubgroupRow(Part):
    """One subgroup's metrics and whether it is significantly worse than the rest."""

    group: str
    images: Count | None = None
    patients: Count | None = None
    positives: int | None = None
    accuracy: float | None = None
    sensitivity: float | None = None
    specificity: float | None = None
    auc: float | None = None
    accuracy_interval: list[float] | None = None
    difference: float | None = None
    difference_interval: list[float] | None = None
    worse: bool = False


class Subgroups(Part):
    """Metrics by subgroup (sex, age band, source, view) on one split."""

    split: str | None = None
    min_images: Count | None = None
    by: dict[str, list[SubgroupRow]] = Field(default_factory=dict)
    worse: list[str] = Field(default_factory=list, description="``attribute=group`` of each "
                             "group significantly worse than the rest")


class Overlap(Part):
    """What an external dataset shared with the run (``bamnet evaluate``)."""

    images: Count
    excluded: Count
    kept: Count
    sentence: str = ""
    by_split: dict[str, int] = Field(default_factory=dict, description="excluded images by "
                                     "the run split that held them")
    by_kind: dict[str, int] = Field(default_factory=dict, description="excluded images by "
                                    "how they matched: content (same bytes), copy, patient "
                                    "(near-duplicate: recorded before copies were sought)")
    run_images_unread: Count = Field(0, description="the run's images that could not be "
                                     "read: copies of them were not sought, their patients were")
    disjoint_by: list[str] = Field(default_factory=list, description="what the check compared; "
                                   "empty for a check that did not prove the data external")


class ExternalData(Part):
    """Where an external evaluation's images came from."""

    origin: str = ""
    images: Count | None = None
    decode_failures: int = 0


class MetricsFile(RunFile):
    """``metrics.json`` (and ``external/<name>/metrics.json``): the run's measurements.

    ``classes``, ``positive`` and ``threshold`` are in every file a run writes.
    """

    classes: list[str] = Field(default_factory=list, description="class names, output order")
    positive: str | None = Field(None, description="the positive class")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="the decision threshold")
    headline: HeadlineChoice | None = Field(None, description="the split that headlines")
    splits: dict[str, SplitMetrics] = Field(default_factory=dict,
                                            description="split name -> its metrics")
    evaluator_errors: list[EvaluatorError] = Field(default_factory=list)
    split: SplitProtocol | None = None
    generator: GeneratorSummary | None = None
    gan_quality: dict[str, dict[str, Any]] | None = Field(
        None, description="synthetic-image assessor name -> its results (its own shape)")
    shortcut_baseline: ShortcutBaseline | None = None
    subgroups: Subgroups | None = None
    data: ExternalData | None = Field(None, description="external evaluations only")
    overlap: Overlap | None = Field(None, description="external evaluations checked for "
                                    "overlap with the run only")
    warnings: list[str] = Field(default_factory=list, description="what evaluation found "
                                "to warn about (the audit's own are in data-audit.json)")

    @property
    def headline_split(self) -> str | None:
        """The name of the headline split, when the file names one."""
        return self.headline.split if self.headline else None

    def results(self, split: str, evaluator: str) -> dict[str, Any] | None:
        """What ``evaluator`` returned on ``split``, or None."""
        found = self.splits.get(split)
        return found.results(evaluator) if found else None
