"""Measure an exported model, and make and gate its int8 and fp16 variants.

Each model's section of ``export-report.json`` holds its parity against
Keras, validation accuracy and ROC AUC, speed, and for a variant the change
against fp32 and its gate (:mod:`bamnet_core.export.gates`).
"""

from __future__ import annotations

from collections.abc import Callable
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
    Int8Recipe,
    accuracy_and_auc,
    convert_fp16,
    images_per_second,
    quantize_int8,
)
from .workdir import release_memory, write_model

BATCH = 8  # images per inference: a large model's activations stay small


def predict_in_batches(scorer: Any, x: np.ndarray, batch: int = BATCH) -> np.ndarray:
    """``scorer.predict`` over ``x``, ``batch`` images at a time."""
    if len(x) <= batch:
        return scorer.predict(x)
    return np.concatenate([scorer.predict(x[i:i + batch]) for i in range(0, len(x), batch)])


@dataclass
class Measured:
    """One model's report entry, with its probabilities and labels on validation images."""

    entry: dict[str, Any]
    labels: list[str]


def measure(path: Path, parity: ParityResult, scorer: Any, labels: list[str], x: np.ndarray,
            baseline: dict[str, Any] | None = None) -> Measured:
    """One model's section of the report: parity, accuracy/AUC, speed, change vs fp32."""
    from ..score.scorer import decide

    probs = predict_in_batches(scorer, x)
    quality = accuracy_and_auc(probs, labels, scorer.classes, scorer.info.positive,
                               scorer.threshold)
    entry: dict[str, Any] = {"path": str(path), "parity_vs_keras": parity.to_dict(), **quality,
                             "inference_images_per_s": round(images_per_second(scorer, x), 2)}
    if baseline is not None:
        entry["accuracy_change_points"] = round(100 * (quality["accuracy"]
                                                       - baseline["accuracy"]), 3)
        if quality["roc_auc"] is not None and baseline["roc_auc"] is not None:
            entry["roc_auc_change"] = round(quality["roc_auc"] - baseline["roc_auc"], 5)
        entry["speed_ratio_vs_fp32"] = round(entry["inference_images_per_s"]
                                             / max(baseline["inference_images_per_s"], 1e-9), 2)
    return Measured(entry, decide(probs, scorer.classes, scorer.info.positive, scorer.threshold))


@dataclass
class VariantJob:
    """What every variant needs: the checked fp32 model and the validation images."""

    fp32_path: Path
    proto: Any
    info: ModelInfo
    props: dict[str, Any]
    input_name: str
    keras_probs: np.ndarray
    paths: list[str]
    labels: list[str]
    x: np.ndarray
    fp32: Measured
    limits: GateLimits
    calibration: Callable[[], np.ndarray]
    progress: ProgressCallback = silent


def make_variant(job: VariantJob, name: str, work_path: Path) -> tuple[Measured, GateResult]:
    """Write the ``name`` variant to ``work_path``, measure it and gate it against fp32.

    int8 tries :data:`~.quantize.INT8_RECIPES` in order until one passes its
    gate; the entry's ``attempts`` holds every try's gate numbers and
    ``recipe`` the one in the file (the last tried when none passed).
    """
    if name != "int8":
        return _try(job, name, work_path, None)
    calibration = job.calibration()
    attempts: list[dict[str, Any]] = []
    for recipe in INT8_RECIPES:
        measured, gate = _try(job, name, work_path, recipe, calibration)
        attempts.append({"recipe": recipe.name, "passed": gate.passed,
                         "checks": gate.to_dict()["checks"],
                         "inference_images_per_s": measured.entry["inference_images_per_s"]})
        if gate.passed:
            break
    measured.entry["recipe"] = recipe.name
    measured.entry["attempts"] = attempts
    return measured, gate


def _try(job: VariantJob, name: str, work_path: Path, recipe: Int8Recipe | None,
         calibration: np.ndarray | None = None) -> tuple[Measured, GateResult]:
    """Make one variant (int8 as ``recipe`` says), measure it and gate it against fp32."""
    import onnx

    from ..score.scorer import Scorer

    settings = None
    props = dict(job.props)
    if recipe is not None:
        settings = quantize_int8(job.fp32_path, work_path, calibration, job.input_name,
                                 recipe=recipe, progress=job.progress)
        variant = onnx.load(str(work_path))
        props["recipe"] = recipe.name
    else:
        variant = convert_fp16(job.proto)
    set_metadata(variant, replace(job.info, precision=name).to_props(**props))
    write_model(work_path, variant)
    del variant
    # reduced precision is held to fp32 by its gate, not to Keras within 1e-4
    release_memory()  # what calibration or conversion left behind
    scorer = Scorer(work_path, provider="cpu")
    parity = check_parity(job.keras_probs, scorer, job.paths, tolerance=np.inf,
                          what=f"{name} model", enforce=False, batch_size=BATCH)
    measured = measure(work_path, parity, scorer, job.labels, job.x, baseline=job.fp32.entry)
    measured.entry["settings"] = settings
    gate = variant_gate(name, measured.labels, job.fp32.labels, measured.entry,
                        job.fp32.entry, job.limits)
    del scorer
    release_memory()
    return measured, gate


def mark_fastest(models: dict[str, dict[str, Any]], passed: dict[str, bool]) -> str | None:
    """Name the fastest model that passed its gate (``fastest: true`` in its entry) and flag
    each variant slower than fp32 (``slower_than_fp32``); returns the fastest's name."""
    speeds = {n: e["inference_images_per_s"] for n, e in models.items() if passed.get(n)}
    fastest = max(speeds, key=lambda n: speeds[n]) if speeds else None
    fp32 = models.get("fp32", {}).get("inference_images_per_s")
    for name, entry in models.items():
        entry["fastest"] = name == fastest
        if name != "fp32" and fp32 is not None:
            entry["slower_than_fp32"] = entry["inference_images_per_s"] < fp32
    return fastest
