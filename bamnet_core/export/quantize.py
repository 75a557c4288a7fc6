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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._util.logs import quieted
from .._util.progress import ProgressCallback, ProgressEvent, silent
from .output_softmax import output_softmax_nodes, softmax_in_float32

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


@dataclass(frozen=True)
class CalibrationImages:
    """Calibration images read a batch at a time: ``read(i)`` returns batch ``i`` of
    ``batches`` (preprocessed, ``(n, h, w, c)``), decoded when asked, so no more than
    one batch is held whatever the number of images.
    """

    batches: int
    read: Callable[[int], np.ndarray]

    @classmethod
    def from_array(cls, x: np.ndarray, batch: int = CALIBRATION_BATCH) -> CalibrationImages:
        """Images already in memory, ``batch`` at a time."""
        return cls(-(-len(x) // batch), lambda i: x[i * batch:(i + 1) * batch])

    def mapped(self, change: Callable[[np.ndarray], np.ndarray]) -> CalibrationImages:
        """The same batches, each passed through ``change``."""
        return CalibrationImages(self.batches, lambda i: change(self.read(i)))


class _BatchReader:
    """Feeds calibration batches to onnxruntime's calibrator, a range at a time.

    ``__len__`` and ``set_range`` let the calibrator work in strides
    (``CalibStridedMinMax``): it reduces each stride's activations to their
    ranges before it reads the next, so memory does not grow with the number
    of calibration images; each batch is decoded when read and dropped after.
    """

    def __init__(self, input_name: str, images: CalibrationImages,
                 progress: ProgressCallback) -> None:
        self.input_name, self.images, self.progress = input_name, images, progress
        self.start, self.end = 0, len(self)
        self.position = 0
        self.sizes: dict[int, int] = {}  # images in each batch read so far

    def __len__(self) -> int:
        return self.images.batches

    def set_range(self, start_index: int, end_index: int) -> None:
        """Read batches ``start_index`` .. ``end_index - 1`` next."""
        self.start, self.end = start_index, min(end_index, len(self))
        self.position = self.start

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next non-empty batch of the current range, or None when it is done."""
        while self.position < self.end:
            chunk = self.images.read(self.position)
            self.sizes[self.position] = len(chunk)
            self.position += 1
            self.progress(ProgressEvent("calibrate", len(self.sizes), len(self),
                                        "int8 calibration (batches)"))
            if len(chunk):  # a batch none of whose files decoded is skipped
                return {self.input_name: np.ascontiguousarray(chunk, np.float32)}
        return None

    def rewind(self) -> None:
        """Start again from the first batch of the current range."""
        self.position = self.start


def quantize_int8(fp32_path: Path, out_path: Path,
                  calibration: CalibrationImages | np.ndarray,
                  input_name: str, recipe: Int8Recipe = INT8_RECIPES[0], *,
                  progress: ProgressCallback = silent) -> dict[str, Any]:
    """Write a static int8 (QDQ, S8S8) copy of ``fp32_path`` to ``out_path`` as ``recipe`` says.

    Calibration reads one batch per inference and folds it into the
    calibrator's ranges or histograms at once (one batch per stride), so its
    memory is that of one batch whatever the number of images.

    :param calibration: training images, streamed (:class:`CalibrationImages`) or
        preprocessed in one array ``(n, h, w, c)`` (read ``CALIBRATION_BATCH`` at a time).
    :returns: the settings used (for the export report).
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    CalibrationDataReader.register(_BatchReader)
    if isinstance(calibration, np.ndarray):
        calibration = CalibrationImages.from_array(calibration)
    reader = _BatchReader(input_name, calibration, progress)
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
            reader,
            quant_format=QuantFormat.QDQ,
            per_channel=recipe.per_channel,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            reduce_range=INT8_SETTINGS["reduce_range"],
            # the output Softmax stays in float32: probabilities that sum to 1
            nodes_to_exclude=excluded + output_softmax_nodes(
                onnx.load(str(prepared), load_external_data=False).graph),
            calibrate_method=getattr(CalibrationMethod, recipe.calibrate_method),
            # strides bound memory for every method: the loop is onnxruntime's, not MinMax's
            extra_options={"CalibStridedMinMax": 1},
        )
        prepared.unlink(missing_ok=True)
    return {**recipe.settings(), "nodes_kept_fp32": excluded,
            "calibration_images": sum(reader.sizes.values()),
            "calibration_batches": len(reader.sizes),
            "calibration_batch": max(reader.sizes.values(), default=0),
            "calibration_stride_batches": 1}


def convert_fp16(model: Any) -> Any:
    """An fp16 copy of an ``onnx.ModelProto`` with float32 inputs and outputs (the
    output Softmax in float32)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    return softmax_in_float32(convert_float_to_float16(model, keep_io_types=True))


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
