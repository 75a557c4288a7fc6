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

import time
from pathlib import Path
from typing import Any

import numpy as np

from .._util.logs import quieted
from .._util.progress import ProgressCallback, ProgressEvent, silent

INT8_SETTINGS: dict[str, Any] = {
    "quant_format": "QDQ",
    "per_channel": True,
    "activation_type": "QInt8",
    "weight_type": "QInt8",
    "reduce_range": False,
    "calibrate_method": "MinMax",
}
CALIBRATION_BATCH = 4  # images per calibration inference


class _ArrayReader:
    """Feeds calibration batches to onnxruntime's calibrator, a range at a time.

    ``__len__`` and ``set_range`` let the calibrator work in strides
    (``CalibStridedMinMax``): it reduces each stride's activations to their
    ranges before it reads the next, so memory does not grow with the number
    of calibration images.
    """

    def __init__(self, input_name: str, x: np.ndarray, batch: int,
                 progress: ProgressCallback) -> None:
        self.input_name, self.x, self.batch, self.progress = input_name, x, batch, progress
        self.start, self.end = 0, len(self)
        self.position = 0
        self.done = 0

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch)

    def set_range(self, start_index: int, end_index: int) -> None:
        """Read batches ``start_index`` .. ``end_index - 1`` next."""
        self.start, self.end = start_index, min(end_index, len(self))
        self.position = self.start

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next batch of the current range, or None when it is done."""
        if self.position >= self.end:
            return None
        i = self.position * self.batch
        chunk = self.x[i:i + self.batch]
        self.position += 1
        self.done = min(len(self.x), self.done + len(chunk))
        self.progress(ProgressEvent("calibrate", self.done, len(self.x),
                                    "int8 calibration (images)"))
        return {self.input_name: chunk}

    def rewind(self) -> None:
        """Start again from the first batch of the current range."""
        self.position = self.start


def quantize_int8(fp32_path: Path, out_path: Path, calibration: np.ndarray,
                  input_name: str, *, progress: ProgressCallback = silent) -> dict[str, Any]:
    """Write a static int8 (QDQ, S8S8, per-channel) copy of ``fp32_path`` to ``out_path``.

    Calibration reads ``CALIBRATION_BATCH`` images per inference and reduces
    each batch to per-tensor ranges at once (one batch per stride), so its
    memory is that of one batch whatever the number of images.

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
    with quieted(""):
        prepared = out_path.with_name(out_path.stem + ".prepared.onnx")
        # shape inference + graph optimisation first, as onnxruntime recommends;
        # symbolic shapes would need sympy, and our only dynamic dim is the batch
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(out_path),
            _ArrayReader(input_name, calibration, CALIBRATION_BATCH, progress),
            quant_format=QuantFormat.QDQ,
            per_channel=INT8_SETTINGS["per_channel"],
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            reduce_range=INT8_SETTINGS["reduce_range"],
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"CalibStridedMinMax": 1},
        )
        prepared.unlink(missing_ok=True)
    return {**INT8_SETTINGS, "calibration_images": int(len(calibration)),
            "calibration_batch": CALIBRATION_BATCH, "calibration_stride_batches": 1}


def convert_fp16(model: Any) -> Any:
    """An fp16 copy of an ``onnx.ModelProto`` with float32 inputs and outputs."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    return convert_float_to_float16(model, keep_io_types=True)


def images_per_second(scorer: Any, x: np.ndarray, *, repeats: int = 3,
                      batch: int = 8) -> float:
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
