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

from typing import Any, Literal

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


class Calibration(Part):
    """A calibration fitted on validation: ``q = sigmoid(slope * logit(p) + intercept)``."""

    method: Literal["platt"] = "platt"
    slope: float = Field(gt=0.0, description="positive: the map keeps every ranking")
    intercept: float
    fitted_on: str = Field("val", description="the split it was fitted on")


class OperatingPoint(Part):
    """Where the decision threshold came from."""

    rule: Literal["youden", "target-sensitivity", "fixed", "run"] = Field(
        description="youden or target-sensitivity: chosen on ``chosen_on``; fixed: the "
        "config's number; run: an external evaluation's, the run's own")
    chosen_on: str | None = Field(None, description="the split that chose it")
    sentence: str = Field("", description="the rule and its result, in words")
    target_sensitivity: float | None = Field(None, ge=0.0, le=1.0)
    calibration: Calibration | None = Field(None, description="absent: probabilities as the "
                                            "model gives them")
    calibrated_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="the threshold on the calibrated probabilities "
        "the evaluators saw (``threshold`` is on the model's own output)")


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


def baseline_name(reads: str | None) -> str:
    """What a baseline is called: by what it reads (``reads``), or, for a run from before
    its pixel statistics were read outside the lungs (no ``reads``), by that."""
    return "outside-the-lungs baseline" if reads else \
        "image-property baseline (whole image, lungs included)"


class PropertyBaseline(Part):
    """The outside-the-lungs baseline's score on one split: image properties only."""

    auc: float | None = None
    interval: list[float] | None = Field(None, description="its 95% interval")
    images: Count | None = None
    difference: PairedDifference | None = Field(None, description="the model's lead over it")


class ShortcutBaseline(Part):
    """The outside-the-lungs baseline on the split the model is scored on, beside the model."""

    split: str | None = None
    baseline: PropertyBaseline | None = Field(None, description="its ROC-AUC, interval, images "
                                              "and the paired difference to the model")
    model_auc: float | None = None
    model_interval: list[float] | None = None
    sentence: str | None = Field(None, description="the comparison in one sentence")
    reads: str | None = Field(None, description="what the baseline reads; absent in a run "
                              "whose baseline read pixel statistics over the whole image")

    @property
    def name(self) -> str:
        """What this baseline is called, by what it reads."""
        return baseline_name(self.reads)

    @property
    def baseline_auc(self) -> float | None:
        """The baseline's ROC-AUC, when it was measured."""
        return self.baseline.auc if self.baseline else None


class SubgroupComparison(Part):
    """One rate of one subgroup against the rest of the split, and its corrected test."""

    metric: str = Field(description="sensitivity, specificity or auc")
    group: float | None = Field(None, description="the rate on the group's images")
    rest: float | None = Field(None, description="the rate on every other image of the split")
    difference: float | None = Field(None, description="group - rest")
    interval: list[float] | None = Field(None, description="95% patient-bootstrap interval "
                                         "of the difference")
    p: float | None = Field(None, ge=0.0, le=1.0, description="one-sided p-value that the "
                            "group does worse, before correction")
    p_holm: float | None = Field(None, ge=0.0, le=1.0, description="after Holm's correction "
                                 "over every test of the split")
    worse: bool = False

    @property
    def p_shown(self) -> str:
        """The corrected p-value as a line shows it: ``p = 0.012``, ``p < 0.001``."""
        if self.p_holm is None:
            return "p not computed"
        return "p < 0.001" if self.p_holm < 0.001 else f"p = {self.p_holm:.2g}"


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
    comparisons: list[SubgroupComparison] = Field(
        default_factory=list, description="each rate the group had the images to test")
    difference: float | None = Field(None, description="runs before the corrected test: "
                                     "accuracy minus the rest's")
    difference_interval: list[float] | None = Field(None, description="runs before the "
                                                    "corrected test: its interval")
    worse: bool = False


class Subgroups(Part):
    """Metrics by subgroup (sex, age band, source, view) on one split."""

    split: str | None = None
    min_images: Count | None = None
    test: str | None = Field(None, description="the test that decides ``worse`` (runs before "
                             "it: the accuracy gap's interval, uncorrected)")
    tests: int | None = Field(None, ge=0, description="how many tests the correction counted")
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


class OcclusionFill(Part):
    """The one pixel value occlusion hides regions with, fixed from the training split."""

    value: float = Field(description="in model-input units")
    how: str = Field("", description="how it was computed")
    images: Count | None = Field(None, description="training images it was computed on")


class MetricsFile(RunFile):
    """``metrics.json`` (and ``external/<name>/metrics.json``): the run's measurements.

    ``classes``, ``positive`` and ``threshold`` are in every file a run writes.
    """

    classes: list[str] = Field(default_factory=list, description="class names, output order")
    positive: str | None = Field(None, description="the positive class")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="the decision "
                                    "threshold on the model's output (what `bamnet score` "
                                    "applies)")
    operating_point: OperatingPoint | None = Field(None, description="where the threshold "
                                                   "came from (absent in runs made before "
                                                   "it was recorded: the config's number)")
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
    occlusion_fill: OcclusionFill | None = Field(
        None, description="the value occlusion hides pixels with (an external evaluation "
        "uses the run's own)")
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
