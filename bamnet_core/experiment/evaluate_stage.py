"""From a trained model to ``metrics.json``: predictions per split, then every evaluator.

Shared by ``bamnet run`` (validation and test) and ``bamnet evaluate`` (an
external dataset). A model trained on cached features is evaluated on cached
features too (:class:`~bamnet_core.train.inference.ModelInference`).
"""

from __future__ import annotations

import io
from functools import partial
from typing import Any

import numpy as np

from .._util.csv_text import CsvWriter
from .._util.progress import ProgressCallback
from ..config.resolved import Config
from ..contract.capabilities import NamesGradCamLayer
from ..contract.evaluation import EvaluationContext, SplitPredictions
from ..data.loading import LoadedImages
from ..errors import RunError
from ..imaging.preprocess import PreprocessSpec
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import MetricsFile
from .audit_stage import audit_metrics
from .context import RunContext
from .evaluation import evaluate_splits
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
                   validation: SplitPredictions | None = None, stage: str = "evaluate"
                   ) -> tuple[MetricsFile, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Predict every non-empty split of ``loaded`` and run the configured evaluators.

    :returns: the metrics (not yet written), and split name -> (true class indices, probabilities).

    :param loaded: split name -> decoded images (``val`` first when present).
    :param from_cache: the model was trained on cached extractor features.
    :param figures: the run-folder subfolder evaluators write figures to.
    :param predictions_file: where every prediction is saved (a CSV, one row per image).
    :param validation: the split that chose the operating threshold, when it is not
        among ``loaded`` (``bamnet evaluate`` passes the run's own).
    :param stage: what the run's record says wrote the predictions.
    """
    from ..train.inference import ModelInference

    inference = ModelInference(model, spec, from_cache=from_cache, progress=progress)
    splits = {}
    for name, part in loaded.items():
        if len(part.samples):
            splits[name] = SplitPredictions(name=name, y_true=labels_of(config, part),
                                            y_prob=inference.probabilities(part.x),
                                            samples=list(part.samples), images=part.x)
    run.write_text(predictions_file, predictions_csv(config.data.classes, splits))
    run.record(stage, [predictions_file])
    backbone = config.components.backbone
    context = partial(  # every field but the split's own: evaluate_splits fills those in
        EvaluationContext, class_names=config.data.classes, positive=config.data.positive,
        threshold=config.evaluate.threshold, bootstrap=config.evaluate.bootstrap,
        target_sensitivity=config.evaluate.target_sensitivity,
        seed=config.run.seed, figures_dir=run.file(figures),
        predict=lambda x: inference.probabilities(x, cached=False),
        features=inference.features(), model=model,
        gradcam_layer=backbone.gradcam_layer if isinstance(backbone, NamesGradCamLayer)
        else None,
        protocol=config.split.by, extra=extra or {})
    predictions = {name: (part.y_true, part.y_prob) for name, part in splits.items()}
    metrics = evaluate_splits(config, splits, context, progress, validation=validation)
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
        metrics, predictions = evaluate_model(
            config, ctx.run, ctx.spec, model, {name: loaded[name] for name in ("val", "test")},
            from_cache=bool(training.get("feature_cache")), progress=ctx.progress)
        entries: dict[str, Any] = {}
        quality = assess_synthetic(config, model, loaded["train"], ctx.spec, ctx.run,
                                   ctx.progress)
        if quality is not None:
            entries["gan_quality"] = quality
        split = ctx.the_split()
        entries["split"] = {"by": split.by, "leaky": split.leaky}
        audit = ctx.results.get(AuditResult)
        if audit is not None:
            entries.update(audit_metrics(config, audit, split, loaded, y, predictions))
        generated = ctx.results.get(GeneratorResult)
        if generated is not None:
            entries["generator"] = generated.synthesis
        metrics = metrics.with_entries(entries)
        ctx.run.write_model(layout.METRICS, metrics)
        ctx.run.record(self.name, [layout.METRICS])
        return EvaluateResult(metrics, predictions)
