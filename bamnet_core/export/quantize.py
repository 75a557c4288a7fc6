"""Reduced-precision variants of an exported model: int8 for CPUs, fp16 for GPUs.

int8 is static quantization calibrated on training images. The settings
were chosen by measurement on an AVX-512 VNNI + AMX CPU with VGG16 at
224x224 (benchmarks/bench_quantize.py; numbers in docs/export-and-scoring.md):
QDQ format, per-channel weights, *signed* int8 activations and weights
(S8S8), no reduce_range. With uint8 activations onnxruntime ran barely faster
than fp32 (1.1x); with S8S8 it ran about 3.8x faster. reduce_range only
helps CPUs without VNNI and costs accuracy, so it is off.

fp16 uses onnxruntime's own converter (``onnxruntime.transformers.float16``,
the same code as onnxconverter-common), keeping float32 inputs and outputs so
scoring code does not change.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._util.logs import quieted

INT8_SETTINGS: dict[str, Any] = {
    "quant_format": "QDQ",
    "per_channel": True,
    "activation_type": "QInt8",
    "weight_type": "QInt8",
    "reduce_range": False,
    "calibrate_method": "MinMax",
}


class _ArrayReader:
    """Feeds calibration batches to onnxruntime's calibrator."""

    def __init__(self, input_name: str, x: np.ndarray, batch: int = 8) -> None:
        self.batches = iter([{input_name: x[i:i + batch]} for i in range(0, len(x), batch)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next batch, or None when done."""
        return next(self.batches, None)

    def rewind(self) -> None:
        """Not needed by MinMax calibration."""


def quantize_int8(fp32_path: Path, out_path: Path, calibration: np.ndarray,
                  input_name: str) -> dict[str, Any]:
    """Write a static int8 (QDQ, S8S8, per-channel) copy of ``fp32_path`` to ``out_path``.

    :param calibration: preprocessed training images ``(n, h, w, c)``.
    :returns: the settings used (for the export report).
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    CalibrationDataReader.register(_ArrayReader)
    # the quantizer logs per-node chatter on the root logger
    with quieted(""), tempfile.TemporaryDirectory(prefix="bamnet-int8-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # shape inference + graph optimisation first, as onnxruntime recommends;
        # symbolic shapes would need sympy, and our only dynamic dim is the batch
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(out_path), _ArrayReader(input_name, calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=INT8_SETTINGS["per_channel"],
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            reduce_range=INT8_SETTINGS["reduce_range"],
            calibrate_method=CalibrationMethod.MinMax,
        )
    return {**INT8_SETTINGS, "calibration_images": int(len(calibration))}


def convert_fp16(model: Any) -> Any:
    """An fp16 copy of an ``onnx.ModelProto`` with float32 inputs and outputs."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    return convert_float_to_float16(model, keep_io_types=True)


def images_per_second(scorer: Any, x: np.ndarray, *, repeats: int = 3,
                      batch: int = 16) -> float:
    """Throughput of ``scorer.predict`` on ``x`` tiled to ``batch``; best of ``repeats``."""
    if len(x) == 0:
        return 0.0
    reps = -(-batch // len(x))
    x = np.concatenate([x] * reps)[:batch]
    scorer.predict(x)  # warm-up: first run allocates and picks kernels
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        scorer.predict(x)
        best = min(best, time.perf_counter() - start)
    return len(x) / best


def accuracy_and_auc(probs: np.ndarray, labels: list[str], classes: list[str], positive: str,
                     threshold: float) -> dict[str, float | None]:
    """Accuracy and positive-class ROC AUC of ``probs`` against ``labels``."""
    from ..score.scorer import decide

    predicted = decide(probs, classes, positive, threshold)
    accuracy = float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)]))
    truth = np.array([t == positive for t in labels])
    auc = None
    if 0 < truth.sum() < len(truth):
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(truth, probs[:, classes.index(positive)]))
    return {"accuracy": accuracy, "roc_auc": auc}
