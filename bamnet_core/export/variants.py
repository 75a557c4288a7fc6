"""Measure an exported model, and make and gate its int8 and fp16 variants.

Each model's section of ``export-report.json`` holds its parity against
Keras, validation accuracy and ROC AUC, speed (:mod:`bamnet_core.export.speed`,
measured once every model exists, interleaved), and for a variant the change
against fp32 and its gate (:mod:`bamnet_core.export.gates`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, silent
from ..score.metadata import ModelInfo, set_metadata
from .gates import GateLimits, GateResult, variant_gate
from .parity import ParityResult, check_parity
from .quantize import (
    INT8_RECIPES,
    CalibrationImages,
    Int8Recipe,
    accuracy_and_auc,
    convert_fp16,
)
from .quantize_process import quantize_apart
from .speed import Speed, SpeedBudget, faster, fastest, measure_speeds
from .workdir import release_memory, write_model

BATCH = 8  # images per inference: a large model's activations stay small


@dataclass
class Measured:
    """One model's report entry, with its probabilities and labels on validation images."""

    entry: dict[str, Any]
    labels: list[str]


def measure(path: Path, parity: ParityResult, scorer: Any, labels: list[str],
            baseline: dict[str, Any] | None = None) -> Measured:
    """One model's section of the report: parity, accuracy/AUC, change vs fp32.

    Accuracy and AUC come from the probabilities the parity check scored
    (``parity.probabilities``); speed is added later (:func:`record_speeds`).
    """
    from ..score.scorer import decide

    probs = parity.probabilities
    quality = accuracy_and_auc(probs, labels, scorer.classes, scorer.info.positive,
                               scorer.threshold)
    entry: dict[str, Any] = {"path": str(path), "parity_vs_keras": parity.to_dict(), **quality}
    if baseline is not None:
        entry["accuracy_change_points"] = round(100 * (quality["accuracy"]
                                                       - baseline["accuracy"]), 3)
        if quality["roc_auc"] is not None and baseline["roc_auc"] is not None:
            entry["roc_auc_change"] = round(quality["roc_auc"] - baseline["roc_auc"], 5)
    return Measured(entry, decide(probs, scorer.classes, scorer.info.positive, scorer.threshold))


@dataclass
class VariantJob:
    """What every variant needs: the checked fp32 model, the validation images' paths and
    labels (scored from their files, a batch at a time), and the calibration images (read a
    batch at a time)."""

    fp32_path: Path
    info: ModelInfo
    props: dict[str, Any]
    input_name: str
    keras_probs: np.ndarray
    paths: list[str]
    labels: list[str]
    fp32: Measured
    limits: GateLimits
    calibration: CalibrationImages
    progress: ProgressCallback = silent


def make_variant(job: VariantJob, name: str, work_path: Path) -> tuple[Measured, GateResult]:
    """Write the ``name`` variant to ``work_path``, measure it and gate it against fp32.

    int8 tries :data:`~.quantize.INT8_RECIPES` in order until one passes its
    gate; the entry's ``attempts`` holds every try's gate numbers and
    ``recipe`` the one in the file (the last tried when none passed).
    """
    if name != "int8":
        return _try(job, name, work_path, None)
    attempts: list[dict[str, Any]] = []
    for recipe in INT8_RECIPES:
        measured, gate = _try(job, name, work_path, recipe)
        attempts.append({"recipe": recipe.name, "passed": gate.passed,
                         "checks": gate.to_dict()["checks"]})
        if gate.passed:
            break
    measured.entry["recipe"] = recipe.name
    measured.entry["attempts"] = attempts
    return measured, gate


def _try(job: VariantJob, name: str, work_path: Path,
         recipe: Int8Recipe | None) -> tuple[Measured, GateResult]:
    """Make one variant (int8 as ``recipe`` says), measure it and gate it against fp32."""
    import onnx

    from ..score.scorer import Scorer

    settings = None
    props = dict(job.props)
    if recipe is not None:
        settings = quantize_apart(job.fp32_path, work_path, job.calibration, job.input_name,
                                  recipe=recipe, progress=job.progress)
        variant = onnx.load(str(work_path))
        props["recipe"] = recipe.name
    else:
        variant = convert_fp16(onnx.load(str(job.fp32_path)))  # read when needed, not held
    set_metadata(variant, replace(job.info, precision=name).to_props(**props))
    write_model(work_path, variant)
    del variant
    # reduced precision is held to fp32 by its gate, not to Keras within 1e-4
    release_memory()  # what calibration or conversion left behind
    scorer = Scorer(work_path, provider="cpu")
    parity = check_parity(job.keras_probs, scorer, job.paths, tolerance=np.inf,
                          what=f"{name} model", enforce=False, batch_size=BATCH)
    measured = measure(work_path, parity, scorer, job.labels, baseline=job.fp32.entry)
    measured.entry["settings"] = settings
    gate = variant_gate(name, measured.labels, job.fp32.labels, measured.entry,
                        job.fp32.entry, job.limits)
    del scorer
    release_memory()
    return measured, gate


def time_models(paths: dict[str, Path], probe: np.ndarray,
                budget: SpeedBudget) -> dict[str, Speed]:
    """Time every model in interleaved rounds (:func:`~.speed.measure_speeds` on ``probe``,
    ``BATCH`` images a run), each opened for its turn and closed after it."""
    return measure_speeds({name: _opener(path) for name, path in paths.items()}, probe,
                          batch=BATCH, budget=budget, release=release_memory)


def _opener(path: Path) -> Any:
    """A function that opens ``path``'s session on the CPU as ``bamnet score`` opens it, and
    returns its inference on one batch. Only the session: the export just wrote and checked
    the file, so each turn does not hash it or read its metadata again."""
    from ..score.session import open_session

    def open_model() -> Any:
        session = open_session(path, "cpu")
        name = session.get_inputs()[0].name
        return lambda x: session.run(None, {name: np.ascontiguousarray(x, np.float32)})

    return open_model


def record_speeds(models: dict[str, dict[str, Any]], speeds: dict[str, Speed],
                  passed: dict[str, bool]) -> str | None:
    """Write each model's speed (median and range) into its entry; name the fastest.

    The fastest (``fastest: true``) is the model that passed its gate and is
    :func:`~.speed.faster` than every other that passed, or none when their
    ranges overlap. A variant is flagged ``slower_than_fp32`` only when fp32
    is faster than it by the same rule, ``faster_than_fp32`` only when it is
    faster than fp32. Returns the fastest's name.
    """
    for name, speed in speeds.items():
        models[name].update(speed.to_dict())
    best = fastest({n: s for n, s in speeds.items() if passed.get(n)})
    fp32 = speeds.get("fp32")
    for name, entry in models.items():
        entry["fastest"] = name == best
        if name != "fp32" and fp32 is not None and name in speeds:
            entry["speed_ratio_vs_fp32"] = round(speeds[name].median / max(fp32.median, 1e-9), 2)
            entry["faster_than_fp32"] = faster(speeds[name], fp32)
            entry["slower_than_fp32"] = faster(fp32, speeds[name])
    return best
