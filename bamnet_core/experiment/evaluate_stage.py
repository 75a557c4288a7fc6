"""From a trained model to ``metrics.json``: predictions per split, then every evaluator.

Shared by ``bamnet run`` (validation and test) and ``bamnet evaluate`` (an
external dataset). A model trained on cached features is evaluated on cached
features too (:class:`~bamnet_core.train.inference.ModelInference`).
"""

from __future__ import annotations

import io
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from .._util.csv_text import CsvWriter
from .._util.progress import ProgressCallback
from ..config.resolved import Config
from ..contract.capabilities import NamesGradCamLayer
from ..contract.evaluation import EvaluationContext, SplitPredictions
from ..data.loading import LoadedImages
from ..data.lung_fields import run_lung_fields
from ..errors import RunError
from ..imaging.preprocess import PreprocessSpec
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import MetricsFile
from ..runs.metrics_file import OperatingPoint
from .audit_stage import audit_metrics
from .context import RunContext
from .evaluation import evaluate_splits
from .held_out import held_out_context
from .occlusion_fill import training_fill
from .operating_point import calibrate, choose, evaluated_threshold
from .results import AuditResult, EvaluateResult, GeneratorResult, TrainResult
from .stages import Stage
from .synthetic_quality import assess_synthetic


def predictions_csv(classes: list[str], splits: dict[str, SplitPredictions]) -> str:
    """One row per evaluated image: split, provenance, true label and each class's probability."""
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(["split", "path", "patient_id", "source", "label",
                     *[f"p_{c}" for c in classes]])
    for name, split in splits.items():
        for sample, probs in zip(split.samples, split.y_prob, strict=True):
            writer.writerow([name, sample.path, sample.patient_id, sample.source, sample.label,
                             *[repr(float(p)) for p in probs]])
    return out.getvalue()


def labels_of(config: Config, loaded: LoadedImages) -> np.ndarray:
    """Class indices of the loaded samples, in ``[data] classes`` order."""
    index = {c: i for i, c in enumerate(config.data.classes)}
    return np.array([index[s.label] for s in loaded.samples], dtype=np.int64)


def evaluate_model(config: Config, run: rf.RunFolder, spec: PreprocessSpec, model: Any,
                   loaded: dict[str, LoadedImages], *, from_cache: bool,
                   progress: ProgressCallback, extra: dict[str, Any] | None = None,
                   figures: str = layout.PLOTS, predictions_file: str = layout.PREDICTIONS,
                   validation: SplitPredictions | None = None, fill: float | None = None,
                   decided: tuple[float, OperatingPoint] | None = None, stage: str = "evaluate"
                   ) -> tuple[MetricsFile, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Predict every non-empty split of ``loaded`` and run the configured evaluators.

    Each split carries its images' lung fields (``[lungs]``: the user's masks, else
    the run's lung-field estimator), for the evaluators that hide them.

    :returns: the metrics (not yet written), and split name -> (true class indices, probabilities).

    :param loaded: split name -> decoded images (``val`` first when present).
    :param from_cache: the model was trained on cached extractor features.
    :param figures: the run-folder subfolder evaluators write figures to.
    :param predictions_file: where every prediction is saved (a CSV, one row per image).
    :param validation: the split that chose the operating threshold, when it is not
        among ``loaded`` (``bamnet evaluate`` passes the run's own).
    :param fill: the value occlusion hides pixels with, fixed from the run's training split
        (:mod:`.occlusion_fill`); None when unknown.
    :param decided: the threshold and operating point already chosen (``bamnet evaluate``
        passes the run's own, :func:`.operating_point.recorded`); None chooses them on
        the ``val`` split as ``[evaluate]`` says (:func:`.operating_point.choose`).

    ``predictions.csv`` keeps the model's own probabilities; with a calibration the
    evaluators see calibrated ones, and the threshold mapped with them.
    :param stage: what the run's record says wrote the predictions.
    """
    from ..train.inference import ModelInference

    inference = ModelInference(model, spec, from_cache=from_cache, progress=progress)
    lungs = run_lung_fields(config)
    splits = {}
    for name, part in loaded.items():
        if len(part.samples):
            fields = None if lungs is None else lungs.for_inputs(
                part.x, spec, [s.path for s in part.samples])
            splits[name] = SplitPredictions(name=name, y_true=labels_of(config, part),
                                            y_prob=inference.probabilities(part.x),
                                            samples=list(part.samples), images=part.x,
                                            lung_fields=fields)
    run.write_text(predictions_file, predictions_csv(config.data.classes, splits))
    run.record(stage, [predictions_file])
    pos = config.data.classes.index(config.data.positive)
    threshold, point = decided or choose(config.evaluate, splits.get("val", validation), pos)
    calibration = point.calibration
    if calibration is not None:
        splits = {name: replace(split, y_prob=calibrate(calibration, split.y_prob, pos))
                  for name, split in splits.items()}
        validation = validation and replace(
            validation, y_prob=calibrate(calibration, validation.y_prob, pos))
    backbone = config.components.backbone
    context = partial(  # every field but the split's own: evaluate_splits fills those in
        EvaluationContext, class_names=config.data.classes, positive=config.data.positive,
        threshold=evaluated_threshold(threshold, point), bootstrap=config.evaluate.bootstrap,
        target_sensitivity=config.evaluate.target_sensitivity,
        seed=config.run.seed, figures_dir=run.file(figures),
        predict=lambda x: calibrate(calibration, inference.probabilities(x, cached=False),
                                    pos),
        features=inference.features(), model=model,
        gradcam_layer=backbone.gradcam_layer if isinstance(backbone, NamesGradCamLayer)
        else None,
        protocol=config.split.by, fill=fill, extra=extra or {})
    context = held_out_context(context, config.split.hold_out_source)
    predictions = {name: (part.y_true, part.y_prob) for name, part in splits.items()}
    metrics = evaluate_splits(config, splits, context, progress, validation=validation,
                              threshold=evaluated_threshold(threshold, point))
    metrics |= {"threshold": threshold, "operating_point": point.model_dump(mode="json")}
    return MetricsFile.model_validate(metrics), predictions


class EvaluateStage(Stage):
    """Predict validation and test, run every evaluator, compare with the audit's baseline."""

    name = "evaluate"
    rerunnable = True

    def keep(self, ctx: RunContext) -> EvaluateResult | None:
        """The metrics an earlier attempt wrote (evaluated again when they do not read)."""
        if not ctx.finished(self.name) or not ctx.run.file(layout.METRICS).is_file():
            return None
        try:
            return EvaluateResult(ctx.run.read_model(layout.METRICS, MetricsFile))
        except RunError:  # damaged, or off the schema
            return None

    def run(self, ctx: RunContext) -> EvaluateResult:
        """Write ``predictions.csv`` and ``metrics.json`` (with the audit's later findings)."""
        config, loaded, y = ctx.config, ctx.images(), ctx.labels()
        model = ctx.trained_model()
        trained = ctx.results.get(TrainResult)
        training = trained.training if trained is not None else {}
        fill = training_fill(loaded["train"].x)
        metrics, predictions = evaluate_model(
            config, ctx.run, ctx.spec, model, {name: loaded[name] for name in ("val", "test")},
            from_cache=bool(training.get("feature_cache")), progress=ctx.progress,
            fill=None if fill is None else fill["value"])
        entries: dict[str, Any] = {"occlusion_fill": fill}
        quality = assess_synthetic(config, model, loaded["train"], ctx.spec, ctx.run,
                                   ctx.progress)
        if quality is not None:
            entries["gan_quality"] = quality
        split = ctx.the_split()
        entries["split"] = {"by": split.by, "leaky": split.leaky}
        audit = ctx.results.get(AuditResult)
        if audit is not None:
            entries.update(audit_metrics(
                config, audit, split, loaded, y, predictions,
                threshold=evaluated_threshold(metrics.threshold, metrics.operating_point)))
        generated = ctx.results.get(GeneratorResult)
        if generated is not None:
            entries["generator"] = generated.synthesis
        metrics = metrics.with_entries(entries)
        ctx.run.write_model(layout.METRICS, metrics)
        ctx.run.record(self.name, [layout.METRICS])
        return EvaluateResult(metrics, predictions)
