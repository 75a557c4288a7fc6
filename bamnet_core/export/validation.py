"""The validation images of an export, read a batch at a time and never all at once.

The gates compare models on the run's validation images. Holding them all in
one array made an export's peak memory grow with their number (VGG16 at
224x224: 0.6 MB per image, more for every copy Keras and onnxruntime make), so
they are decoded :data:`VALIDATION_BATCH` at a time: Keras scores a batch and
the batch is dropped. What is kept grows by a few bytes per image (its path,
label and class probabilities), plus one small batch for timing inference.
The onnxruntime side reads the same files through
:meth:`~bamnet_core.score.scorer.Scorer.score_paths`, which streams too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..contract.sample import Sample
from ..data.loading import LoadedImages, load_samples
from ..errors import ImageDecodeError
from ..imaging.preprocess import PreprocessSpec
from .quantize import CALIBRATION_BATCH, CalibrationImages

#: Validation images decoded and scored by Keras at a time (VGG16 at 224x224: 19 MB).
VALIDATION_BATCH = 32


def load_batches(samples: Sequence[Sample], spec: PreprocessSpec, batch: int,
                 ) -> Iterator[LoadedImages]:
    """:func:`~bamnet_core.data.loading.load_samples` over ``samples``, ``batch`` at a time."""
    for start in range(0, len(samples), batch):
        yield load_samples(samples[start:start + batch], spec)


def calibration_batches(samples: Sequence[Sample], spec: PreprocessSpec,
                        batch: int = CALIBRATION_BATCH) -> CalibrationImages:
    """``samples`` as int8 calibration images, each batch decoded when the calibrator reads it
    (through the image cache, so the recipes after the first read it back cheaply)."""
    samples = list(samples)
    return CalibrationImages(-(-len(samples) // batch),
                             lambda i: load_samples(samples[i * batch:(i + 1) * batch], spec).x)


@dataclass
class ValidationPass:
    """What the gates need from the validation images, gathered in one streamed pass.

    :param keras_probs: the Keras model's probabilities, one row per decoded image.
    :param probe: the first few decoded images, to time inference on.
    :param batches: how many batches the images were read in.
    """

    paths: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    keras_probs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    probe: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    errors: list[ImageDecodeError] = field(default_factory=list)
    batches: int = 0


def keras_pass(model: Any, samples: Sequence[Sample], spec: PreprocessSpec, *,
               inference_batch: int, probe_size: int, batch: int | None = None,
               progress: ProgressCallback = silent) -> ValidationPass:
    """Decode ``samples`` ``batch`` at a time (default :data:`VALIDATION_BATCH`) and score
    each batch with the Keras ``model``, ``inference_batch`` images per call.

    The probabilities equal those of one call on all the images: Keras scores
    ``inference_batch`` images at a time either way, and ``batch`` is rounded to a
    multiple of it.
    """
    from ..train.engine import predict

    step = batch or VALIDATION_BATCH
    step = max(inference_batch, step - step % inference_batch)
    found = ValidationPass()
    probs: list[np.ndarray] = []
    # the stage's clock starts now, not when the first batch is done
    progress(ProgressEvent("decode val", 0, len(samples), "validation images through Keras"))
    for chunk in load_batches(samples, spec, step):
        found.batches += 1
        found.errors += chunk.errors
        found.paths += [str(s.path) for s in chunk.samples]
        found.labels += [s.label for s in chunk.samples]
        if len(chunk.x):
            probs.append(predict(model, chunk.x, batch_size=inference_batch))
        if len(found.probe) < probe_size and len(chunk.x):
            have = found.probe if len(found.probe) else chunk.x[:0]
            found.probe = np.concatenate([have, chunk.x[:probe_size - len(have)]])
        progress(ProgressEvent("decode val", min(found.batches * step, len(samples)),
                               len(samples), "validation images through Keras"))
    if probs:
        found.keras_probs = np.concatenate(probs)
    return found
