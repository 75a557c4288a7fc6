"""``bamnet export RUN_DIR --onnx``: the trained Keras model as a self-describing ONNX file.

The model is converted with tf2onnx (batch dimension named ``batch``), the
run's classes, decision rule, preprocessing and validation metrics go into
its metadata, and the file must pass the parity gate (:mod:`bamnet_core.parity`)
before it appears: every output file is written to a temp name and renamed
only after every check passed, so a refused export leaves nothing behind.
``export-report.json`` records what was checked and measured.
"""

from __future__ import annotations

import csv
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .._util import atomic
from .._util.cachedir import file_sha256
from .._util.logs import quieted
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..contract.sample import Sample
from ..errors import DataError, RunError
from ..imaging.preprocess import PreprocessSpec
from ..report.model_card import card_summary
from ..report.record import read_run
from ..runs import folder as rf
from ..score.metadata import ModelInfo, set_metadata
from .parity import ParityResult, check_parity

DEFAULT_OPSET = 17
TOLERANCE = 1e-4
REPORT = "export-report.json"


@dataclass
class ExportResult:
    """Where an export wrote its files, and its report."""

    model_path: Path
    report_path: Path
    report: dict[str, Any]
    variants: dict[str, Path] = field(default_factory=dict)


def split_rows(run: rf.RunFolder, split: str, limit: int) -> list[Sample]:
    """Up to ``limit`` samples of ``split`` from ``splits.csv``, spread over the list."""
    path = run.file(rf.SPLITS)
    if not path.exists():
        raise RunError(f"{path} is missing", hint="export needs a finished `bamnet run` folder")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == split]
    if len(rows) > limit:  # evenly spaced, so every class is likely represented
        rows = [rows[int(i * len(rows) / limit)] for i in range(limit)]
    return [Sample(path=r["path"], label=r["label"], patient_id=r.get("patient_id") or r["path"],
                   source=r.get("source") or "") for r in rows]


def keras_to_onnx(model: Any, spec: PreprocessSpec, opset: int) -> Any:
    """Convert a Keras 3 model with tf2onnx; the batch dimension is named ``batch``."""
    import tensorflow as tf
    import tf2onnx

    # Keras 3 models have no save spec; tf2onnx needs an explicit input signature.
    signature = (tf.TensorSpec((None, *spec.input_shape), tf.float32, name="image"),)
    with quieted("tf2onnx"):
        proto, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=opset)
    for value in [*proto.graph.input, *proto.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    proto.doc_string = "bamnet classifier; preprocessing and decision rule in metadata_props"
    return proto


def _load_keras(run: rf.RunFolder) -> Any:
    from ..train.backend import import_keras

    keras = import_keras()
    if keras.backend.backend() != "tensorflow":
        raise RunError("ONNX export converts through TensorFlow",
                       hint="run `bamnet export` with KERAS_BACKEND=tensorflow (the default)")
    path = run.file(rf.MODEL)
    if not path.exists():
        raise RunError(f"{path} is missing", hint="export needs a run that finished training")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise RunError(f"{path} was refused by safe loading: it holds code (a Lambda "
                           "layer), which could run anything when loaded",
                           hint="rebuild the model without Lambda layers (use a named layer "
                                "class); bamnet never loads model code unsafely") from None
        raise RunError(f"{path} cannot be loaded: {first}",
                       hint="is it a model.keras written by `bamnet run`?") from None


def export_onnx(run_dir: str | Path, *, output: str | Path | None = None,
                opset: int = DEFAULT_OPSET, int8: bool = False, fp16: bool = False,
                parity_images: int = 256, calibration_images: int = 64,
                progress: ProgressCallback = silent) -> ExportResult:
    """Export a run's model to ONNX, verify it, and write it with ``export-report.json``.

    :param output: the fp32 model path (default ``RUN_DIR/model.onnx``); the
        variants go beside it as ``<stem>.int8.onnx`` and ``<stem>.fp16.onnx``.
    :raises ParityError: if onnxruntime disagrees with Keras; nothing is written.
    """
    from ..data.loading import load_samples
    from ..score.scorer import Scorer
    from ..train.engine import predict

    run = rf.RunFolder(run_dir)
    if not run.path.is_dir():
        raise RunError(f"run folder {run.path} not found",
                       hint="pass a folder made by `bamnet run`")
    if not run.file(rf.PREPROCESS).exists():
        raise RunError(f"{run.file(rf.PREPROCESS)} is missing",
                       hint="is this a bamnet run folder?")
    spec = PreprocessSpec.from_json(run.file(rf.PREPROCESS).read_text(encoding="utf-8"))
    metrics = run.read_json(rf.METRICS)
    output = Path(output) if output else run.file("model.onnx")
    report_path = output.parent / REPORT
    info = ModelInfo(classes=list(metrics["classes"]), positive=metrics["positive"],
                     threshold=float(metrics["threshold"]), spec=spec)
    progress(ProgressEvent("export", 0, None, "decoding validation images"))
    val = load_samples(split_rows(run, "val", parity_images), spec)
    if len(val.samples) == 0:
        raise DataError(f"no validation image listed in {run.file(rf.SPLITS)} could be decoded",
                        hint="the parity gate needs the run's images where splits.csv says")
    paths, labels = [s.path for s in val.samples], [s.label for s in val.samples]
    progress(ProgressEvent("export", 0, None, "converting with tf2onnx"))
    model = _load_keras(run)
    keras_probs = predict(model, val.x)
    proto = keras_to_onnx(model, spec, opset)
    config_path = run.file(rf.CONFIG)
    common = {"version": __version__, "run": run.path.name, "input": proto.graph.input[0].name,
              "config_sha256": file_sha256(config_path)
              if config_path.exists() else "",
              "metrics": metrics.get("splits", {}).get("val", {}),
              "model_card": card_summary(read_run(run.path))}
    set_metadata(proto, info.to_props(**common))
    report: dict[str, Any] = {
        "run": str(run.path), "bamnet_version": __version__, "opset": opset,
        "created_at": rf.utc_now(), "validation_images": len(paths),
        "undecodable_validation_images": [str(e) for e in val.errors][:20], "models": {}}
    variants: dict[str, Path] = {}
    with ExitStack() as stack:
        tmp = stack.enter_context(atomic.atomic_path(output))
        tmp.write_bytes(proto.SerializeToString())
        progress(ProgressEvent("export", 0, None, "parity gate: onnxruntime vs Keras"))
        fp32 = Scorer(tmp, provider="cpu")
        parity = check_parity(keras_probs, fp32, paths, tolerance=TOLERANCE)
        report["models"]["fp32"] = _entry(output, parity, fp32, labels, val.x)
        if int8 or fp16:
            from .quantize import convert_fp16, quantize_int8

            for name, wanted in (("int8", int8), ("fp16", fp16)):
                if not wanted:
                    continue
                target = output.with_name(f"{output.stem}.{name}.onnx")
                vtmp = stack.enter_context(atomic.atomic_path(target))
                progress(ProgressEvent("export", 0, None, f"{name} variant"))
                settings = None
                if name == "int8":
                    train = load_samples(split_rows(run, "train", calibration_images), spec)
                    settings = quantize_int8(tmp, vtmp, train.x, common["input"])
                    import onnx

                    variant = onnx.load(str(vtmp))
                else:
                    variant = convert_fp16(proto)
                set_metadata(variant, replace(info, precision=name).to_props(**common))
                vtmp.write_bytes(variant.SerializeToString())
                scorer = Scorer(vtmp, provider="cpu")
                # reduced precision is measured and reported, not held to 1e-4
                result = check_parity(keras_probs, scorer, paths, tolerance=np.inf,
                                      what=f"{name} model", enforce=False)
                entry = _entry(target, result, scorer, labels, val.x,
                               baseline=report["models"]["fp32"])
                entry["settings"] = settings
                report["models"][name] = entry
                variants[name] = target
    atomic.write_json(report_path, report)  # after the models are in place
    return ExportResult(model_path=output, report_path=report_path, report=report,
                        variants=variants)


def _entry(path: Path, parity: ParityResult, scorer: Any,
           labels: list[str], x: np.ndarray, baseline: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    """One model's section of the report: parity, accuracy/AUC, speed, change vs fp32."""
    from .quantize import accuracy_and_auc, images_per_second

    probs = scorer.predict(x)
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
    return entry
