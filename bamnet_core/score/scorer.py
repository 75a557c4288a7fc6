"""Score images with an exported bamnet ONNX model on onnxruntime.

:class:`Scorer` opens a model, reads the preprocessing and decision rule
from its metadata (:mod:`.metadata`) and scores paths or arrays.
:meth:`Scorer.score_stream` decodes in a thread pool while onnxruntime runs
the previous batch, keeping at most a few batches in flight, so memory stays
flat on any number of files. A file that fails becomes a record with an
``error``; it never stops the stream.

Imports no TensorFlow, so scoring starts in a fraction of a second.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._util.digest import file_digest
from .._util.progress import ProgressCallback, ProgressEvent, silent
from .._util.text import one_line
from .._util.threads import default_workers
from ..contract.decision import decide_indices
from ..errors import BamnetError, ConfigError
from ..imaging.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from ..runs.integrity import refuse_changed_model
from .discovery import Item, item_path
from .inputs import load_with_uids
from .metadata import ModelFileError, ModelInfo
from .session import Provider, check_model_io, open_session
from .uids import InstanceUids


@dataclass(frozen=True)
class ScoreRecord:
    """One scored input: probabilities and label, or the reason it failed.

    :param path: the file (or the name given to an array).
    :param probabilities: class name -> probability; ``None`` when it failed.
    :param label: the predicted class; ``None`` when it failed.
    :param threshold: the decision threshold applied to the positive class.
    :param model_sha256: sha256 of the model file that scored it.
    :param error: why it failed, or ``None``.
    :param sop_instance_uid: the DICOM file's ``SOPInstanceUID`` (:mod:`.uids`), or ``None``.
    :param study_instance_uid: its ``StudyInstanceUID``, or ``None``.
    :param note: something to tell the user that is not a failure (a UID left
        out because it was not valid); never written in the row.
    """

    path: str
    probabilities: dict[str, float] | None
    label: str | None
    threshold: float
    model_sha256: str
    error: str | None = None
    sop_instance_uid: str | None = None
    study_instance_uid: str | None = None
    note: str | None = field(default=None, compare=False)

    def to_dict(self, *, uids: bool = False) -> dict[str, Any]:
        """A JSON-ready dict (the JSON Lines output row); ``uids`` adds the UID keys."""
        row = {"path": self.path, "probabilities": self.probabilities, "label": self.label,
               "threshold": self.threshold, "model_sha256": self.model_sha256,
               "error": self.error}
        if uids:
            row.update(sop_instance_uid=self.sop_instance_uid,
                       study_instance_uid=self.study_instance_uid)
        return row

    def __post_init__(self) -> None:
        if self.error is not None:  # one line in every output: CSV, JSON Lines, Parquet, stderr
            object.__setattr__(self, "error", one_line(self.error))


def with_uids(record: ScoreRecord, found: InstanceUids | None) -> ScoreRecord:
    """``record`` carrying the UIDs read from its file (unchanged when there are none)."""
    if found is None:
        return record
    return replace(record, sop_instance_uid=found.sop, study_instance_uid=found.study,
                   note=found.note)


def decide(probs: np.ndarray, classes: Sequence[str], positive: str,
           threshold: float) -> list[str]:
    """Labels for rows of ``probs``: the positive class when its probability reaches
    ``threshold``, else the most probable other class (the rule evaluation uses)."""
    picked = decide_indices(probs, list(classes).index(positive), threshold)
    return [classes[i] for i in picked]


class Scorer:
    """Score images with one exported model.

    :param model_path: a ``.onnx`` file written by ``bamnet export --onnx``.
    :param provider: ``auto`` (CUDA if usable, else CPU), ``cuda`` or ``cpu``.
    :param threshold: replace the model's decision threshold.
    :param threads: onnxruntime intra-op threads (default: all cores).
    """

    def __init__(self, model_path: str | Path, *, provider: Provider = "auto",
                 threshold: float | None = None, threads: int | None = None) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise ModelFileError(f"model file {self.model_path} not found",
                                 hint="export one with `bamnet export RUN_DIR --onnx`")
        found = file_digest(self.model_path)  # once: the model's id, and its run's check
        refuse_changed_model(self.model_path, found)
        self.session = open_session(self.model_path, provider, threads)
        props = dict(self.session.get_modelmeta().custom_metadata_map)
        self.info = ModelInfo.from_props(props, source=str(self.model_path))
        check_model_io(self.session, self.info, str(self.model_path))
        if threshold is not None and not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
            raise ConfigError(f"threshold must be a number in [0, 1], got {threshold!r}",
                              hint="for example --threshold 0.5")
        self.threshold = self.info.threshold if threshold is None else float(threshold)
        self.sha256 = found.sha256
        self.input_name = self.session.get_inputs()[0].name
        self.provider = self.session.get_providers()[0]
        recipe = self.info.extra.get("bamnet.recipe")
        #: which model variant this is, as `bamnet score` names it: ``int8 (per-channel, Entropy)``
        self.variant = self.info.precision + (f" ({recipe})" if recipe else "")

    @property
    def classes(self) -> list[str]:
        """Class names, in output order."""
        return self.info.classes

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, classes)`` for already preprocessed inputs ``(n, h, w, c)``."""
        if len(x) == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(x, np.float32)})
        return np.asarray(out[0], dtype=np.float32)

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """Model input for one decoded image: grayscale ``(h, w)`` or BGR ``(h, w, 3)``;
        uint8, uint16, or float in [0, 1] (what :func:`decode_image` returns)."""
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[2] in (3, 4):
            import cv2

            code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
            image = cv2.cvtColor(image, code)
        if image.ndim != 2 or image.size == 0:
            raise ValueError(f"expected a 2-D grayscale or (h, w, 3) image, got {image.shape}")
        if image.dtype == np.uint8:
            image = image.astype(np.float32) / 255.0
        elif image.dtype == np.uint16:
            image = image.astype(np.float32) / 65535.0
        elif not (np.isfinite(image).all() and image.min() >= 0.0 and image.max() <= 1.0):
            raise ValueError("float images must hold values in [0, 1]")
        return self.info.spec.apply(image)

    def records(self, names: Sequence[str], x: np.ndarray) -> list[ScoreRecord]:
        """Records for preprocessed inputs ``x`` named ``names``."""
        probs = self.predict(x)
        finite = np.isfinite(probs).all(axis=1)
        labels = decide(np.where(finite[:, None], probs, 0.0), self.classes, self.info.positive,
                        self.threshold)
        return [ScoreRecord(name, {c: float(p) for c, p in zip(self.classes, row, strict=True)},
                            label, self.threshold, self.sha256) if ok else
                self.failed(name, "the model produced a non-finite probability (NaN or inf)")
                for name, row, label, ok in zip(names, probs, labels, finite, strict=True)]

    def failed(self, name: str, reason: str) -> ScoreRecord:
        """The record of an input that could not be scored."""
        return ScoreRecord(name, None, None, self.threshold, self.sha256, reason)

    def score_arrays(self, images: Sequence[np.ndarray],
                     names: Sequence[str] | None = None) -> list[ScoreRecord]:
        """Score decoded images (see :meth:`preprocess`); a bad array gets an error record."""
        names = list(names) if names is not None else [f"array[{i}]" for i in range(len(images))]
        ok_names, batch, out = [], [], {}
        for name, image in zip(names, images, strict=True):
            try:
                batch.append(self.preprocess(image))
                ok_names.append(name)
            except (ValueError, BamnetError) as exc:
                out[name] = self.failed(name, str(exc))
        if batch:
            out.update(zip(ok_names, self.records(ok_names, np.stack(batch)), strict=True))
        return [out[n] for n in names]

    def score_paths(self, paths: Iterable[str | Path], **kwargs: Any) -> list[ScoreRecord]:
        """Score files (not folders) and return their records, in order."""
        stream = self.score_stream([os.fspath(p) for p in paths], **kwargs)
        return [record for batch in stream for record in batch]

    def score_stream(self, items: Iterable[Item], *, batch_size: int = 32,
                     workers: int | None = None, prefetch: int = 2,
                     max_pixels: int = DEFAULT_MAX_PIXELS,
                     max_bytes: int = DEFAULT_MAX_BYTES, uids: bool = False,
                     progress: ProgressCallback = silent) -> Iterator[list[ScoreRecord]]:
        """Yield one list of records per batch, in input order.

        At most ``batch_size * (prefetch + 1)`` images are decoded or waiting at
        any time; decoding of the next batches overlaps inference on this one.
        With ``uids``, records of DICOM files carry their UIDs (:mod:`.uids`).
        """
        if batch_size < 1:
            raise BamnetError(f"batch size must be at least 1, got {batch_size}")
        source = iter(items)
        limit = batch_size * (prefetch + 1)
        window: deque[tuple[str, Future]] = deque()
        done = failed = 0
        pool = ThreadPoolExecutor(max_workers=workers or default_workers(),
                                  thread_name_prefix="bamnet-decode")

        def fill() -> None:
            while len(window) < limit:
                item = next(source, None)
                if item is None:
                    return
                window.append((item_path(item), pool.submit(
                    load_with_uids, item, self.info.spec, uids=uids, max_pixels=max_pixels,
                    max_bytes=max_bytes)))

        try:
            fill()
            while window:
                batch = [window.popleft() for _ in range(min(batch_size, len(window)))]
                results = [(name, *future.result()) for name, future in batch]
                fill()  # queue the next decodes before inference blocks this thread
                good = [(n, r) for n, r, _ in results if isinstance(r, np.ndarray)]
                scored = dict(zip([n for n, _ in good],
                                  self.records([n for n, _ in good],
                                               np.stack([r for _, r in good])) if good else [],
                                  strict=True))
                records = [with_uids(scored[n] if isinstance(r, np.ndarray)
                                     else self.failed(n, r), found)
                           for n, r, found in results]
                done += len(records)
                failed += sum(r.error is not None for r in records)
                progress(ProgressEvent("score", done, None, "scoring",
                                       {"failed": failed, "provider": self.provider}))
                yield records
        finally:
            for _, future in window:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
