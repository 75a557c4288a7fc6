"""Run orchestration: config -> data -> split -> (generator) -> train -> evaluate -> run folder.

:func:`run_experiment` is what ``bamnet run`` calls. Each step's output lands
in the run folder as soon as it exists, atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._util import atomic
from .._util.progress import ProgressCallback, silent
from ..config.components import check_inputs
from ..config.load import load_config
from ..config.resolved import Config
from ..data.loading import load_samples
from ..errors import DataError, RunError
from ..imaging.preprocess import PreprocessSpec
from ..plugins.manager import PluginHost
from ..runs import folder as rf
from ..runs import layout
from . import stage_records as records
from .audit_stage import audit_metrics, audit_run
from .data_stage import early_stages
from .evaluate_stage import evaluate_model
from .evaluation import EvaluatorsFailed
from .finishing import export_run, finish_run
from .report_stage import write_report_safely
from .stages import RERUNNABLE, RunResult, StageTimer, StoppedAfter, check_until
from .synthetic_quality import assess_synthetic


def run_experiment(
    config: Config,
    host: PluginHost,
    *,
    output_dir: str | Path = "runs",
    progress: ProgressCallback = silent,
    until: str | None = None,
) -> RunResult:
    """Run one experiment end to end and return where its results are.

    :param config: a validated config (see :func:`bamnet_core.config.load_config`).
    :param host: loaded plugins; the run refuses to start if any is broken.
    :param output_dir: the run folder is created inside it.
    :param progress: receives progress events; the library never prints.
    :param until: stop after this stage (one of :data:`STAGES`); ``--resume`` continues.
    """
    host.raise_for_failures()
    check_until(config, until)
    check_inputs(config)
    run = rf.RunFolder.create(output_dir, config.run.name)
    meta = rf.base_meta(seed=config.run.seed, plugin_pins=host.pins(),
                        config_origin=config.origin)
    run.write_text(layout.CONFIG, config.to_toml())
    run.write_json(layout.META, meta)
    return _execute(config, host, run, meta, progress, resume=False, until=until)


def resume_experiment(run_dir: str | Path, host: PluginHost, *,
                      progress: ProgressCallback = silent,
                      start: str | None = None) -> RunResult:
    """Continue a killed, failed or stopped run in ``run_dir`` from its last completed epoch.

    The config is the run folder's ``config.toml``. Stages an earlier attempt
    finished are kept, not run again: the data listing and split, the
    generator's images and the audit come from the folder
    (:mod:`bamnet_core.experiment.stage_records`); decoded images come from the
    cache and training continues from its last completed epoch. A split that
    must be recomputed has to equal the folder's ``splits.csv``.

    :param start: redo the run from this stage on (``evaluate``, ``report`` or
        ``export``), even when the run is complete.
    """
    host.raise_for_failures()
    run = rf.RunFolder(run_dir)
    if not run.path.is_dir() or not run.file(layout.CONFIG).is_file() or \
            not run.file(layout.META).is_file():
        raise RunError(f"{run.path} is not a bamnet run folder (no {layout.CONFIG} and {layout.META})",
                       hint="pass a folder that `bamnet run` created, e.g. runs/<stamp>-<name>")
    meta = run.read_json(layout.META)
    if start is not None and start not in RERUNNABLE:
        raise RunError(f"--from {start!r}: a run folder can redo {', '.join(RERUNNABLE)}",
                       hint="earlier stages change the data or the model: start a new run")
    if meta.get("status") == "complete" and start is None:
        raise RunError(f"{run.path} is complete; there is nothing to resume",
                       hint=f"start a new run (bamnet run {run.file(layout.CONFIG)}), or redo a "
                            "late stage with --from evaluate|report|export")
    config = load_config(str(run.file(layout.CONFIG)), host.registry)
    meta.setdefault("resumed_at", []).append(rf.utc_now())
    meta.update(status="running", error=None, stopped_after=None)
    if start in ("report", "export"):
        return finish_run(config, run, meta, progress, start)
    return _execute(config, host, run, meta, progress, resume=True)


def _execute(config: Config, host: PluginHost, run: rf.RunFolder, meta: dict[str, Any],
             progress: ProgressCallback, *, resume: bool, until: str | None = None
             ) -> RunResult:
    timer = StageTimer(progress, until)
    seed = config.run.seed
    split_seed = config.split.seed if config.split.seed is not None else seed
    spec = config.preprocess_spec()
    run.write_text(layout.PREPROCESS, spec.to_json() + "\n")
    try:
        split, notes, synthesis_info, checked = early_stages(config, run, meta, timer, seed,
                                                             split_seed, progress, resume)
        from ..train.setup import describe_device, seed_everything

        seed_everything(seed)
        meta["device"] = describe_device()
        classes = config.data.classes
        index = {c: i for i, c in enumerate(classes)}
        with timer.stage("decode"):
            loaded = {name: load_samples(split.assignment[name], spec, progress=progress,
                                         stage=f"decode {name}")
                      for name in ("train", "val", "test")}
        errors = [e for part in loaded.values() for e in part.errors]
        if checked is None:
            with timer.stage("audit"):
                checked = audit_run(config, host.registry,
                                    [s for part in split.assignment.values() for s in part],
                                    split, errors, progress)
                checked.report["warnings"].extend(notes)
                run.write_json(layout.AUDIT, checked.report)
                records.save_properties(run, checked.properties)
                records.record(run, meta, "audit", warnings=len(checked.report["warnings"]))
        else:
            timer.kept("audit")
        audit = checked.report
        if len(loaded["train"].samples) == 0 or len(loaded["val"].samples) == 0:
            raise DataError("no decodable images left in the training or validation split",
                            hint=f"see {run.file(layout.AUDIT)} for the decode failures")
        y = {name: np.array([index[s.label] for s in part.samples], dtype=np.int64)
             for name, part in loaded.items()}
        metrics, predictions = _train_and_evaluate(config, run, spec, loaded, y, timer,
                                                   progress, meta, resume=resume)
        metrics["split"] = {"by": split.by, "leaky": split.leaky}
        metrics.update(audit_metrics(config, checked, split, loaded, y, predictions))
        if synthesis_info is not None:
            metrics["generator"] = synthesis_info
        run.write_json(layout.AUDIT, audit)
        run.write_json(layout.METRICS, metrics)
        with timer.stage("report"):
            meta["report"] = write_report_safely(run.path, progress)
        files = {"report": str(run.file("report.html"))} if run.file("report.html").is_file() \
            else {}
        if config.export.onnx and not metrics.get("evaluator_errors"):
            with timer.stage("export"):
                files.update(export_run(config, run.path, progress))
            meta["export"] = files
        if metrics.get("evaluator_errors"):
            first = metrics["evaluator_errors"][0]
            raise EvaluatorsFailed(
                f"{len(metrics['evaluator_errors'])} evaluation(s) failed, e.g. {first['error']}",
                hint=f"the other results are in {run.file(layout.METRICS)}; fix or drop the "
                     "evaluator in [evaluate] evaluators")
        meta["status"] = "complete"
        return RunResult(run_dir=run.path, metrics=metrics, warnings=audit["warnings"],
                         files=files)
    except StoppedAfter as stop:
        meta.update(status="stopped", stopped_after=str(stop))
        metrics_file = run.file(layout.METRICS)
        return RunResult(run_dir=run.path, warnings=[], metrics=run.read_json(layout.METRICS)
                         if metrics_file.is_file() else {})
    except BaseException as exc:
        meta["status"] = ("interrupted" if isinstance(exc, KeyboardInterrupt) else
                          "evaluators-failed" if isinstance(exc, EvaluatorsFailed) else "failed")
        meta["error"] = str(exc)
        raise
    finally:
        meta["finished_at"] = rf.utc_now()
        meta["timings_s"] = timer.timings
        run.write_json(layout.META, meta)


def _train_and_evaluate(config: Config, run: rf.RunFolder, spec: PreprocessSpec,
                        loaded: dict[str, Any], y: dict[str, np.ndarray], timer: StageTimer,
                        progress: ProgressCallback, meta: dict[str, Any], *,
                        resume: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    from ..train.engine import history_csv, train_model

    classes = config.data.classes
    with timer.stage("train"):
        result = train_model(config.components.backbone, spec, loaded["train"].x, y["train"],
                             loaded["val"].x, y["val"], train=config.train,
                             num_classes=len(classes), seed=config.run.seed,
                             run_dir=run.path, resume=resume, progress=progress)
    model = result.model
    meta["training"] = result.info
    run.write_text(layout.HISTORY, history_csv(result.history))
    with atomic.atomic_path(run.file(layout.MODEL)) as tmp:
        model.save(tmp)
    with timer.stage("evaluate"):
        metrics, predictions = evaluate_model(
            config, run, spec, model, {name: loaded[name] for name in ("val", "test")},
            from_cache=bool(result.info.get("feature_cache")), progress=progress)
        quality = assess_synthetic(config, model, loaded["train"], spec, run, progress)
        if quality is not None:
            metrics["gan_quality"] = quality
        return metrics, predictions
