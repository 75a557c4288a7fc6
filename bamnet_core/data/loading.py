"""Decode and preprocess many samples into arrays, on every core.

OpenCV releases the GIL while decoding and resizing, so a thread pool keeps
both cores busy. Decoded, resized images go through the on-disk
:class:`~bamnet_core.data.image_cache.ImageCache`, so a second epoch or run reads
them back instead of decoding. A file that fails becomes an
:class:`ImageDecodeError` in the result; it never stops the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .._util.progress import ProgressCallback, ProgressEvent, silent
from .._util.threads import default_workers
from ..contract.sample import Sample
from ..errors import ImageDecodeError
from ..imaging.limits import DEFAULT_MAX_PIXELS
from ..imaging.preprocess import PreprocessSpec
from ..imaging.properties import LungSource
from .image_cache import ImageCache


@dataclass
class LoadedImages:
    """Model inputs for the samples that decoded, and errors for those that did not.

    :param x: float32 array ``(n_ok, size, size, channels)``.
    :param samples: the samples behind ``x``, in the same order.
    :param errors: one per sample that failed.
    """

    x: np.ndarray
    samples: list[Sample]
    errors: list[ImageDecodeError]


def load_samples(
    samples: Sequence[Sample],
    spec: PreprocessSpec,
    *,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: ProgressCallback = silent,
    stage: str = "decode",
    cache: ImageCache | None = None,
    lungs: LungSource | None = None,
) -> LoadedImages:
    """Decode and preprocess ``samples`` in a thread pool, keeping their order.

    :param cache: where decoded images are kept; default
        :meth:`ImageCache.from_env` (on unless ``BAMNET_IMAGE_CACHE=0``).
    :param lungs: the run's lung-field source: each image decoded is also described
        outside its lung fields, for the audit (:meth:`ImageCache.load`).
    """
    cache = cache if cache is not None else ImageCache.from_env()

    def one(sample: Sample) -> np.ndarray | ImageDecodeError:
        try:
            return cache.load(sample.path, spec, max_pixels=max_pixels, lungs=lungs)
        except ImageDecodeError as exc:
            return exc

    x = np.empty((len(samples), *spec.input_shape), dtype=np.float32)
    ok: list[int] = []
    errors: list[ImageDecodeError] = []
    total = len(samples)
    if total:
        progress(ProgressEvent(stage, 0, total, stage))
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        for i, result in enumerate(pool.map(one, samples)):
            if isinstance(result, ImageDecodeError):
                errors.append(result)
            else:
                x[len(ok)] = result
                ok.append(i)
            if (i + 1) % 16 == 0 or i + 1 == total:
                progress(ProgressEvent(stage, i + 1, total, stage))
    return LoadedImages(x=x[: len(ok)], samples=[samples[i] for i in ok], errors=errors)
