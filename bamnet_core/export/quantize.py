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

import contextlib
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._util.logs import quieted
from .._util.progress import ProgressCallback, ProgressEvent, silent

INT8_SETTINGS: dict[str, Any] = {
    "quant_format": "QDQ",
    "activation_type": "QInt8",
    "weight_type": "QInt8",
    "reduce_range": False,
}
CALIBRATION_BATCH = 4  # images per calibration inference
#: Operators that carry weights: the first and last of them may be kept in fp32.
WEIGHTED_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm")


@dataclass(frozen=True)
class Int8Recipe:
    """One way to quantize: weight granularity, calibration method, nodes kept in fp32."""

    name: str
    calibrate_method: str = "MinMax"
    per_channel: bool = True
    keep_ends_fp32: bool = False

    def settings(self) -> dict[str, Any]:
        """The settings as the export report records them."""
        return {**INT8_SETTINGS, "recipe": self.name, "per_channel": self.per_channel,
                "calibrate_method": self.calibrate_method,
                "first_and_last_layers_fp32": self.keep_ends_fp32}


#: The order ``bamnet export --int8`` tries, until one passes the gate
#: (docs/export-and-scoring.md): per-channel weights first (each output channel
#: its own scale), then the histogram calibrations, which clip rare outliers that
#: MinMax lets stretch the activation range, then the same with the first layer
#: (raw pixels in) and the last (class scores out), the layers int8 hurts most,
#: kept in fp32.
INT8_RECIPES: tuple[Int8Recipe, ...] = (
    Int8Recipe("per-channel, MinMax"),
    Int8Recipe("per-channel, Entropy", "Entropy"),
    Int8Recipe("per-channel, Percentile", "Percentile"),
    Int8Recipe("per-channel, MinMax, first and last layers fp32", keep_ends_fp32=True),
    Int8Recipe("per-channel, Percentile, first and last layers fp32", "Percentile",
               keep_ends_fp32=True),
)


def end_nodes(model_path: Path) -> list[str]:
    """The names of the first and last weighted nodes (Conv, MatMul, Gemm) of a model."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    weighted = [node.name for node in graph.node if node.op_type in WEIGHTED_OPS]
    return list(dict.fromkeys([weighted[0], weighted[-1]])) if weighted else []


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
                  input_name: str, recipe: Int8Recipe = INT8_RECIPES[0], *,
                  progress: ProgressCallback = silent) -> dict[str, Any]:
    """Write a static int8 (QDQ, S8S8) copy of ``fp32_path`` to ``out_path`` as ``recipe`` says.

    Calibration reads ``CALIBRATION_BATCH`` images per inference and folds each
    batch into the calibrator's ranges or histograms at once (one batch per
    stride), so its memory is that of one batch whatever the number of images.

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
    excluded: list[str] = []
    # the quantizer logs per-node chatter on the root logger, and the histogram
    # calibrators print to stdout, which would corrupt `--json` output
    with quieted(""), contextlib.redirect_stdout(io.StringIO()):
        prepared = out_path.with_name(out_path.stem + ".prepared.onnx")
        # shape inference + graph optimisation first, as onnxruntime recommends;
        # symbolic shapes would need sympy, and our only dynamic dim is the batch
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        excluded = end_nodes(prepared) if recipe.keep_ends_fp32 else []
        quantize_static(
            str(prepared), str(out_path),
            _ArrayReader(input_name, calibration, CALIBRATION_BATCH, progress),
            quant_format=QuantFormat.QDQ,
            per_channel=recipe.per_channel,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            reduce_range=INT8_SETTINGS["reduce_range"],
            nodes_to_exclude=excluded,
            calibrate_method=getattr(CalibrationMethod, recipe.calibrate_method),
            # strides bound memory for every method: the loop is onnxruntime's, not MinMax's
            extra_options={"CalibStridedMinMax": 1},
        )
        prepared.unlink(missing_ok=True)
    return {**recipe.settings(), "nodes_kept_fp32": excluded,
            "calibration_images": int(len(calibration)),
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
