"""Run orchestration: config -> data -> split -> (generator) -> train -> evaluate -> run folder.

:func:`run_experiment` is what ``bamnet run`` calls. Each step's output lands
in the run folder as soon as it exists, atomically.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import run_folder as rf
from .audit import audit_samples
from .components import Sample, iter_samples
from .config import Config
from .errors import BamnetError, DataError, RunError
from .images import PreprocessSpec
from .loading import load_samples
from .plugins import PluginHost
from .progress import ProgressCallback, ProgressEvent, silent
from .splits import PatientSplit, split_samples


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    warnings: list[str]


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 3)


def collect_samples(config: Config, host: PluginHost) -> list[Sample]:
    """Instantiate the configured source and collect its samples, checking labels."""
    data = config["data"]
    reg = host.registry.get("dataset_source", data["source"])
    source = reg.target(**config.component_options("data"))
    samples = list(iter_samples(source))
    classes = data["classes"]
    unknown = sorted({s.label for s in samples} - set(classes))
    if unknown:
        raise DataError(
            f"source {data['source']!r} yielded labels {unknown} not in data.classes {classes}",
            hint="add them to [data] classes, or filter them out in the source",
        )
    missing = [c for c in classes if not any(s.label == c for s in samples)]
    if missing:
        raise DataError(f"source {data['source']!r} yielded no images of class(es) {missing}",
                        hint="check the source's path and filters")
    return samples


def synthesise(config: Config, host: PluginHost, split: PatientSplit, run: rf.RunFolder,
               seed: int, progress: ProgressCallback) -> list[Sample]:
    """Fit the configured generator on training images of one class and add its images.

    The generator sees only the training split, and its images go only into
    training, so nothing synthetic can reach validation.
    """
    gen_cfg = config["generator"]
    label = gen_cfg["balance_class"]
    train = split.assignment["train"]
    counts = {c: sum(s.label == c for s in train) for c in config["data"]["classes"]}
    target = math.ceil(gen_cfg["ratio"] * max(counts.values()))
    need = max(0, target - counts[label])
    if need == 0:
        return []
    reg = host.registry.get("generator", gen_cfg["name"])
    generator = reg.target(**config.component_options("generator"))
    workdir = run.file("generator")
    progress(ProgressEvent("generator", 0, need, f"fitting generator {gen_cfg['name']!r}"))
    generator.fit([s for s in train if s.label == label], workdir=workdir, seed=seed)
    made = generator.generate(need, label=label, outdir=workdir / "images", seed=seed)
    bad = [s for s in made if not (isinstance(s, Sample) and s.synthetic and s.label == label)]
    if bad:
        raise BamnetError(f"generator {gen_cfg['name']!r} returned samples that are not "
                          f"synthetic {label!r} Samples")
    progress(ProgressEvent("generator", len(made), need, "synthetic images written"))
    return made


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
    from .config import load_config

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
    timer = _Timer()
    seed = config["run"]["seed"]
    split_seed = config["split"]["seed"] if config["split"]["seed"] is not None else seed
    spec = PreprocessSpec.from_config(config["preprocess"])
    run.write_text(rf.PREPROCESS, spec.to_json() + "\n")
    try:
        with timer.stage("data"):
            samples = collect_samples(config, host)
            split = split_samples(samples, val=config["split"]["val"],
                                  test=config["split"]["test"], seed=split_seed,
                                  by=config["split"]["by"])
        from .training import describe_device, seed_everything

        seed_everything(seed)
        meta["device"] = describe_device()
        if config["generator"]["enabled"]:
            with timer.stage("generator"):
                split.assignment["train"].extend(
                    synthesise(config, host, split, run, seed, progress))
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
        audit = audit_samples([s for part in split.assignment.values() for s in part],
                              split=split, errors=errors)
        run.write_json(rf.AUDIT, audit)
        if len(loaded["train"].samples) == 0 or len(loaded["val"].samples) == 0:
            raise DataError("no decodable images left in the training or validation split",
                            hint=f"see {run.file(rf.AUDIT)} for the decode failures")
        y = {name: np.array([index[s.label] for s in part.samples], dtype=np.int64)
             for name, part in loaded.items()}
        metrics = _train_and_evaluate(config, host, run, spec, loaded, y, timer, progress, meta,
                                      resume=resume)
        metrics["split"] = {"by": split.by, "leaky": split.leaky}
        run.write_json(rf.METRICS, metrics)
        meta["status"] = "complete"
        return RunResult(run_dir=run.path, metrics=metrics, warnings=audit["warnings"])
    except BaseException as exc:
        meta["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        meta["error"] = str(exc)
        raise
    finally:
        meta["finished_at"] = rf.utc_now()
        meta["timings_s"] = timer.timings
        run.write_json(rf.META, meta)


def _train_and_evaluate(config: Config, host: PluginHost, run: rf.RunFolder,
                        spec: PreprocessSpec, loaded: dict[str, Any], y: dict[str, np.ndarray],
                        timer: _Timer, progress: ProgressCallback,
                        meta: dict[str, Any], *, resume: bool = False) -> dict[str, Any]:
    from . import atomic
    from .training import history_csv, predict, train_model

    classes = config["data"]["classes"]
    backbone = host.registry.get("backbone", config["backbone"]["name"]).target(
        **config.component_options("backbone"))
    with timer.stage("train"):
        result = train_model(backbone, spec, loaded["train"].x, y["train"], loaded["val"].x,
                             y["val"], train=config["train"], num_classes=len(classes),
                             seed=config["run"]["seed"], run_dir=run.path, resume=resume,
                             progress=progress)
    model = result.model
    meta["training"] = result.info
    run.write_text(rf.HISTORY, history_csv(result.history))
    with atomic.atomic_path(run.file(rf.MODEL)) as tmp:
        model.save(tmp)
    evaluate = config["evaluate"]
    metrics: dict[str, Any] = {"classes": classes, "positive": config["data"]["positive"],
                               "threshold": evaluate["threshold"], "splits": {}}
    with timer.stage("evaluate"):
        for name in ("val", "test"):
            if len(loaded[name].samples) == 0:
                continue
            progress(ProgressEvent("evaluate", 0, None, f"evaluate {name}"))
            probs = predict(model, loaded[name].x)
            results: dict[str, Any] = {"images": len(probs)}
            for ev_name in evaluate["evaluators"]:
                evaluator = host.registry.get("evaluator", ev_name).target()
                results[ev_name] = evaluator.evaluate(
                    y[name], probs, class_names=classes, positive=config["data"]["positive"],
                    threshold=evaluate["threshold"])
            metrics["splits"][name] = results
    return metrics
