"""The core config sections as pydantic models: keys, types, ranges, defaults, meanings.

Sections that pick a component (``[data]`` by ``source``, ``[backbone]`` and
``[generator]`` by ``name``, ``[lungs]`` by ``estimator``) list only their core
keys here; their other keys belong to the chosen component and are validated against its factory's
signature (:mod:`bamnet_core.plugins.options`). ``docs/config.md`` documents
every field below; a test keeps the two in step.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCALING_NAMES = Literal["unit", "caffe", "tf", "torch", "vgg16"]


class Section(BaseModel):
    """Common settings: unknown keys are errors; NaN and infinity are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)


class ComponentSection(Section):
    """A section whose extra keys go to the component it names."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, validate_default=True)


class RunSection(Section):
    name: str = Field("run", min_length=1, max_length=200, description="used in the run "
                      "folder name (its first 80 characters)")
    seed: int = Field(0, ge=0, lt=2**32, description="seeds splits, initialisation, shuffling")
    description: str = Field("", description="one line shown by `bamnet presets list`")


class DataSection(ComponentSection):
    source: str | None = Field(None, description="a registered dataset source")
    sources: list[dict[str, Any]] | None = Field(
        None, min_length=1, description="several sources as one dataset: [[data.sources]] "
        "tables, each with source = NAME, an optional id, and that source's options")
    classes: list[str] = Field(min_length=2, description="class names, in output order")
    positive: str = Field(description="the positive class (sensitivity is measured on it)")
    limit_per_class: int | None = Field(None, ge=1, description="use at most this many images "
                                        "per class, whole patients first (seeded by run.seed)")


class PreprocessSection(Section):
    size: int = Field(224, ge=8, le=4096, description="square input size in pixels")
    channels: Literal[1, 3] = Field(3, description="1 = grayscale; 3 = grayscale replicated")
    scaling: SCALING_NAMES = Field("unit", description="unit (0-1), or a Keras mode: caffe, "
                                   "tf, torch ('vgg16' is the old name of caffe)")
    interpolation: Literal["area", "linear", "cubic", "nearest", "lanczos"] = Field(
        "area", description="resize filter")
    aspect: Literal["stretch", "pad"] = Field("stretch", description="how to make it square")


class SplitSection(Section):
    by: Literal["patient", "image"] = Field("patient", description="'image' leaks; paper only")
    val: float = Field(0.2, gt=0.0, lt=1.0, description="validation fraction")
    test: float = Field(0.2, ge=0.0, lt=1.0, description="test fraction (headline metrics; "
                        "0 = validation only, as the paper did)")
    seed: int | None = Field(None, ge=0, lt=2**32, description="defaults to run.seed")
    hold_out_source: str | None = Field(None, min_length=1, description="test on this source "
                                        "only, train on the others (replaces test)")


class GeneratorSection(ComponentSection):
    enabled: bool = Field(False, description="synthesise extra training images")
    name: str | None = Field(None, description="a registered generator")
    balance_class: str | None = Field(None, description="the class to synthesise")
    ratio: float = Field(0.5, gt=0.0, le=1.0,
                         description="target count of balance_class / count of the largest")
    count: int | None = Field(None, ge=1, le=10_000_000, description="target count of "
                              "balance_class in training; replaces ratio when set")


class BackboneSection(ComponentSection):
    name: str = Field(description="a registered backbone")


class LungsSection(ComponentSection):
    estimator: str | None = Field(None, description="a registered lung-field estimator; "
                                  "default: the one its plugin registered as the default "
                                  "(the built-in `anatomical`)")
    masks: str | None = Field(None, min_length=1, description="your own lung masks instead: "
                              "a folder of mask images matched to each image by file name "
                              "(or stem), or a CSV whose `path` column names the images and "
                              "whose `column` names each one's mask; images without one get "
                              "the estimator's")
    column: str | None = Field(None, min_length=1, description="the column of the `masks` "
                               "CSV that names each image's mask file")


class OptimizerSection(Section):
    name: Literal["adam", "sgd"] = Field("adam", description="optimizer")
    lr: float = Field(1e-3, gt=0.0, le=10.0, description="initial learning rate")
    beta_1: float = Field(0.9, ge=0.0, lt=1.0, description="Adam beta_1 / SGD momentum")
    beta_2: float = Field(0.999, ge=0.0, lt=1.0, description="Adam beta_2")
    decay: float = Field(0.0, ge=0.0, description="inverse-time decay: lr / (1 + decay*step)")


class AugmentSection(Section):
    rotation: float = Field(0.0, ge=0.0, le=180.0, description="max rotation in degrees")
    shift: float = Field(0.0, ge=0.0, lt=1.0, description="max shift, fraction of the size")
    zoom: float = Field(0.0, ge=0.0, lt=1.0, description="max zoom in or out, fraction")
    brightness: float = Field(0.0, ge=0.0, lt=1.0, description="max brightness change")


class FinetuneSection(Section):
    epochs: int = Field(0, ge=0, le=100_000, description="epochs of phase 2 (0 = none)")
    lr: float = Field(1e-5, gt=0.0, le=10.0, description="learning rate of phase 2")
    unfreeze: str | None = Field(None, description="first backbone layer (name prefix) to "
                                 "train; default: the backbone's own choice")


class TrainSection(Section):
    epochs: int = Field(10, ge=1, le=100_000, description="passes over the training split")
    batch_size: int = Field(32, ge=1, le=65_536, description="images per step")
    class_weight: Literal["none", "balanced"] = Field("none", description="loss weighting")
    optimizer: OptimizerSection = Field(default_factory=OptimizerSection)
    monitor: Literal["val_loss", "val_accuracy", "loss", "accuracy"] = Field(
        "val_loss", description="metric picking best.keras and early stopping")
    early_stopping: int = Field(0, ge=0, description="stop after N epochs without "
                                "improvement; 0 = off")
    restore_best: bool = Field(True, description="model.keras = the best epoch by `monitor`; "
                               "false keeps the last")
    feature_cache: Literal["auto"] | bool = Field(
        "auto", description="train the head on cached frozen-backbone features")
    mixed_precision: bool = Field(False, description="float16 (GPU) / bfloat16 (CPU) compute")
    jit_compile: bool = Field(False, description="compile the train step with XLA")
    distribution: Literal["auto", "none", "mirrored", "multi-worker"] = Field(
        "auto", description="several devices of one host: mirrored replicas (auto: when "
        "there are several GPUs); several hosts: multi-worker (auto: when TF_CONFIG names "
        "two or more workers)")
    augment: AugmentSection = Field(default_factory=AugmentSection)
    finetune: FinetuneSection = Field(default_factory=FinetuneSection)


class EvaluateSection(Section):
    evaluators: list[str] | None = Field(None, description="registered evaluators, in the "
                                         "order they run; default: every evaluator its plugin "
                                         "registered as on by default")
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | Literal[
        "youden", "target-sensitivity"] = Field(
        "youden", description="the positive-class probability cut-off of the headline "
        "numbers: \"youden\" chooses it on the validation split (the cut-off maximising "
        "sensitivity + specificity), \"target-sensitivity\" the highest there that reaches "
        "target_sensitivity; a number is used as given (the paper presets: 0.5)")
    calibration: Literal["none", "platt"] = Field(
        "none", description="\"platt\": fit Platt scaling on the validation split's "
        "probabilities and give every evaluator calibrated ones (a monotone map: no "
        "decision and no ROC-AUC changes; the threshold is mapped with it)")
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="evaluator name -> that evaluator's options")
    bootstrap: int = Field(1000, ge=0, le=100_000, description="patient-bootstrap resamples "
                           "for 95% intervals (0 = none)")
    target_sensitivity: float = Field(0.95, gt=0.0, le=1.0, description="the operating "
                                      "threshold is chosen on validation to reach this")


class AuditSection(Section):
    shortcut_baseline: bool = Field(True, description="fit the image-property shortcut baseline")
    shortcut_threshold: float = Field(0.75, ge=0.5, le=1.0,
                                      description="flag the baseline at this ROC-AUC or above")
    subgroups: bool = Field(True, description="metrics by source, view, sex and age band")
    label_issues: bool = Field(False, description="rank images whose label looks wrong")
    outliers: bool = Field(False, description="rank images unlike the rest of their class")
    features: str = Field("small-cnn", min_length=1, description="backbone whose frozen "
                          "features the label-issue and outlier searches use")
    feature_size: int = Field(64, ge=16, le=512, description="input size for those features")


class ExportSection(Section):
    onnx: bool = Field(True, description="export model.onnx at the end of the run (parity-gated)")
    opset: int = Field(17, ge=13, le=21, description="ONNX opset")
    int8: bool = Field(False, description="also write model.int8.onnx (static int8, gated)")
    fp16: bool = Field(False, description="also write model.fp16.onnx (half precision, gated)")
    calibration_images: int = Field(64, ge=1, le=10_000,
                                    description="training images that calibrate int8")


# Keys that moved into the options of the evaluator that uses them: (section, key) ->
# (evaluator, option). A config that sets one is read as the new key, with a notice.
MOVED_KEYS = {("report.verdict", "occlusion_some"): ("occlusion", "some_auc"),
              ("report.verdict", "occlusion_strong"): ("occlusion", "strong_auc"),
              ("report.verdict", "occlusion_kept"): ("occlusion", "kept"),
              ("report.verdict", "probe_margin"): ("source-probe", "margin"),
              ("report.verdict", "loso_floor"): ("per-source", "loso_floor"),
              ("evaluate", "gradcam_images"): ("gradcam", "correct_images")}


class VerdictSection(Section):
    learned_auc: float = Field(0.5, ge=0.5, le=0.9, description="the model did not learn "
                               "when the low end of the 95% interval of its headline ROC-AUC "
                               "(patients resampled) is at or below this: the verdict then "
                               "reads \"the model did not learn\", never shortcut evidence")
    baseline_auc: float = Field(0.75, ge=0.5, le=1.0, description="an outside-the-lungs baseline "
                                "at or above this ROC-AUC on the test split is shortcut evidence")
    baseline_margin: float = Field(0.05, ge=0.0, le=0.5, description="strong when the model "
                                   "does not beat that baseline by this much (the low end of "
                                   "the paired interval of their AUC difference)")
    confound_share: float = Field(0.9, ge=0.5, le=1.0, description="a class with at least this "
                                  "share of its images from sources at least 90% that class "
                                  "is a protocol line (some; strong when every class comes "
                                  "only from sources of its own)")


class ReportSection(Section):
    min_positives: int = Field(5, ge=1, le=10_000, description="a sensitivity or ROC-AUC "
                               "needs this many positive images, else it reads \"too few\"")
    min_negatives: int = Field(5, ge=1, le=10_000, description="a specificity or ROC-AUC "
                               "needs this many negative images, else it reads \"too few\"")
    redact: bool = Field(False, description="also write a shareable report into shareable/: "
                         "patient ids as keyed pseudonyms, paths as source and index, no images")
    images: bool = Field(False, description="keep Grad-CAM overlays and thumbnails in the "
                         "shareable report (check them for burned-in text first)")
    verdict: VerdictSection = Field(default_factory=VerdictSection)


SECTIONS: dict[str, type[Section]] = {
    "run": RunSection,
    "data": DataSection,
    "preprocess": PreprocessSection,
    "split": SplitSection,
    "generator": GeneratorSection,
    "backbone": BackboneSection,
    "lungs": LungsSection,
    "train": TrainSection,
    "evaluate": EvaluateSection,
    "audit": AuditSection,
    "export": ExportSection,
    "report": ReportSection,
}


def core_keys(section: str) -> set[str]:
    """The keys a section owns (the rest of a component section goes to its component)."""
    return set(SECTIONS[section].model_fields)
