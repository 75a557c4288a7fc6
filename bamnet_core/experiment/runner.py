"""Run orchestration: config -> data -> split -> (generator) -> train -> evaluate -> run folder.

:func:`run_experiment` is what ``bamnet run`` calls. Each step's output lands
in the run folder as soon as it exists, atomically.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._util import atomic
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..config.load import load_config
from ..config.resolved import Config
from ..data.loading import load_samples
from ..data.sources import collect_configured
from ..data.splits import split_samples
from ..data.subset import limit_per_class
from ..errors import DataError, RunError
from ..imaging.preprocess import PreprocessSpec
from ..plugins.manager import PluginHost
from ..runs import folder as rf
from .audit_stage import audit_metrics, audit_run
from .evaluate_stage import evaluate_model
from .evaluation import EvaluatorsFailed
from .generator_stage import synthesise
from .leakage import check_synthetic_placement
from .report_stage import write_report_safely
from .synthetic_quality import assess_synthetic


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    warnings: list[str]
    files: dict[str, str] = field(default_factory=dict)


class _Timer:
    """Times each stage; a finished stage is announced as a ``stage-done`` progress event."""

    def __init__(self, progress: ProgressCallback = silent) -> None:
        self.timings: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = round(time.perf_counter() - start, 3)
            self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)
        self.progress(ProgressEvent("stage-done", 1, 1, name, {"seconds": seconds}))


def run_experiment(
    config: Config,
    host: PluginHost,
    *,
    output_dir: str | Path = "runs",
    progress: ProgressCallback = silent,
) -> RunResult:
    """Run one experiment end to end and return where its results are.

    :param config: a validated config (see :func:`bamnet_core.config.load_config`).
    :param host: loaded plugins; the run refuses to start if any is broken.
    :param output_dir: the run folder is created inside it.
    :param progress: receives progress events; the library never prints.
    """
    host.raise_for_failures()
    run = rf.RunFolder.create(output_dir, config["run"]["name"])
    meta = rf.base_meta(seed=config["run"]["seed"], plugin_pins=host.pins(),
                        config_origin=config.origin)
    run.write_text(rf.CONFIG, config.to_toml())
    run.write_json(rf.META, meta)
    return _execute(config, host, run, meta, progress, resume=False)


def resume_experiment(run_dir: str | Path, host: PluginHost, *,
                      progress: ProgressCallback = silent) -> RunResult:
    """Continue a killed or failed run in ``run_dir`` from its last completed epoch.

    The config is the run folder's ``config.toml``; the data split is
    recomputed and must equal the folder's ``splits.csv``.
    """
    host.raise_for_failures()
    run = rf.RunFolder(run_dir)
    if not run.path.is_dir() or not run.file(rf.CONFIG).is_file() or \
            not run.file(rf.META).is_file():
        raise RunError(f"{run.path} is not a bamnet run folder (no {rf.CONFIG} and {rf.META})",
                       hint="pass a folder that `bamnet run` created, e.g. runs/<stamp>-<name>")
    meta = run.read_json(rf.META)
    if meta.get("status") == "complete":
        raise RunError(f"{run.path} is complete; there is nothing to resume",
                       hint=f"start a new run: bamnet run {run.file(rf.CONFIG)}")
    config = load_config(str(run.file(rf.CONFIG)), host.registry)
    meta.setdefault("resumed_at", []).append(rf.utc_now())
    meta.update(status="running", error=None)
    return _execute(config, host, run, meta, progress, resume=True)


def _execute(config: Config, host: PluginHost, run: rf.RunFolder, meta: dict[str, Any],
             progress: ProgressCallback, *, resume: bool) -> RunResult:
    timer = _Timer(progress)
    seed = config["run"]["seed"]
    split_seed = config["split"]["seed"] if config["split"]["seed"] is not None else seed
    spec = PreprocessSpec.from_config(config["preprocess"])
    run.write_text(rf.PREPROCESS, spec.to_json() + "\n")
    try:
        with timer.stage("data"):
            samples, notes = collect_configured(config.components, config["data"]["classes"])
            if config["data"]["limit_per_class"] is not None:
                samples = limit_per_class(samples, config["data"]["limit_per_class"], seed)
            split = split_samples(samples, val=config["split"]["val"],
                                  test=config["split"]["test"], seed=split_seed,
                                  by=config["split"]["by"])
        from ..train.setup import describe_device, seed_everything

        seed_everything(seed)
        meta["device"] = describe_device()
        synthesis = None
        if config["generator"]["enabled"]:
            with timer.stage("generator"):
                synthesis = synthesise(config, split, run, seed, progress)
                split.assignment["train"].extend(synthesis.samples)
        check_synthetic_placement(split)
        if resume and run.file(rf.SPLITS).is_file() and \
                run.file(rf.SPLITS).read_text(encoding="utf-8") != split.to_csv():
            raise RunError(f"the data split differs from {run.file(rf.SPLITS)}: the data changed "
                           "since the run started", hint="start a new run instead of resuming")
        run.write_text(rf.SPLITS, split.to_csv())
        classes = config["data"]["classes"]
        index = {c: i for i, c in enumerate(classes)}
        with timer.stage("decode"):
            loaded = {name: load_samples(split.assignment[name], spec, progress=progress,
                                         stage=f"decode {name}")
                      for name in ("train", "val", "test")}
        errors = [e for part in loaded.values() for e in part.errors]
        with timer.stage("audit"):
            checked = audit_run(config, host.registry,
                                [s for part in split.assignment.values() for s in part], split,
                                errors, progress)
        audit = checked.report
        audit["warnings"].extend(notes)
        run.write_json(rf.AUDIT, audit)
        if len(loaded["train"].samples) == 0 or len(loaded["val"].samples) == 0:
            raise DataError("no decodable images left in the training or validation split",
                            hint=f"see {run.file(rf.AUDIT)} for the decode failures")
        y = {name: np.array([index[s.label] for s in part.samples], dtype=np.int64)
             for name, part in loaded.items()}
        metrics, predictions = _train_and_evaluate(config, run, spec, loaded, y, timer,
                                                   progress, meta, resume=resume)
        metrics["split"] = {"by": split.by, "leaky": split.leaky}
        metrics.update(audit_metrics(config, checked, split, loaded, y, predictions))
        if synthesis is not None:
            metrics["generator"] = synthesis.info
        run.write_json(rf.AUDIT, audit)
        run.write_json(rf.METRICS, metrics)
        with timer.stage("report"):
            meta["report"] = write_report_safely(run.path, progress)
        files = {"report": str(run.file("report.html"))} if run.file("report.html").is_file() \
            else {}
        if config["export"]["onnx"] and not metrics.get("evaluator_errors"):
            with timer.stage("export"):
                files.update(export_run(config, run.path, progress))
            meta["export"] = files
        if metrics.get("evaluator_errors"):
            first = metrics["evaluator_errors"][0]
            raise EvaluatorsFailed(
                f"{len(metrics['evaluator_errors'])} evaluation(s) failed, e.g. {first['error']}",
                hint=f"the other results are in {run.file(rf.METRICS)}; fix or drop the "
                     "evaluator in [evaluate] evaluators")
        meta["status"] = "complete"
        return RunResult(run_dir=run.path, metrics=metrics, warnings=audit["warnings"],
                         files=files)
    except BaseException as exc:
        meta["status"] = ("interrupted" if isinstance(exc, KeyboardInterrupt) else
                          "evaluators-failed" if isinstance(exc, EvaluatorsFailed) else "failed")
        meta["error"] = str(exc)
        raise
    finally:
        meta["finished_at"] = rf.utc_now()
        meta["timings_s"] = timer.timings
        run.write_json(rf.META, meta)


def export_run(config: Config, run_dir: Path, progress: ProgressCallback) -> dict[str, str]:
    """The export stage: ``model.onnx`` (and the variants ``[export]`` asks for), gated."""
    from ..export.onnx_export import export_onnx

    options = config["export"]
    result = export_onnx(run_dir, opset=options["opset"], int8=options["int8"],
                         fp16=options["fp16"], calibration_images=options["calibration_images"],
                         progress=progress)
    return {"model": str(result.model_path), **{f"model_{name}": str(path) for name, path
                                                 in result.variants.items()}}


def _train_and_evaluate(config: Config, run: rf.RunFolder, spec: PreprocessSpec,
                        loaded: dict[str, Any], y: dict[str, np.ndarray], timer: _Timer,
                        progress: ProgressCallback, meta: dict[str, Any], *,
                        resume: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    from ..train.engine import history_csv, train_model

    classes = config["data"]["classes"]
    with timer.stage("train"):
        result = train_model(config.components.backbone, spec, loaded["train"].x, y["train"],
                             loaded["val"].x, y["val"], train=config["train"],
                             num_classes=len(classes), seed=config["run"]["seed"],
                             run_dir=run.path, resume=resume, progress=progress)
    model = result.model
    meta["training"] = result.info
    run.write_text(rf.HISTORY, history_csv(result.history))
    with atomic.atomic_path(run.file(rf.MODEL)) as tmp:
        model.save(tmp)
    with timer.stage("evaluate"):
        metrics, predictions = evaluate_model(
            config, run, spec, model, {name: loaded[name] for name in ("val", "test")},
            from_cache=bool(result.info.get("feature_cache")), progress=progress)
        quality = assess_synthetic(config, model, loaded["train"], spec, run, progress)
        if quality is not None:
            metrics["gan_quality"] = quality
        return metrics, predictions
