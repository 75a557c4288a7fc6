"""What every stage of a run needs, in one object: :class:`RunContext`.

The stages (:mod:`.pipeline`) read the config, the folder and the results of
the stages before them (:attr:`RunContext.results`) from the context; the
driver stores each stage's typed result there (:mod:`.results`). Decoded images
and a model loaded from disk are cached here, not results: decoding goes
through the on-disk cache and a kept model is loaded only when a later stage
needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._util.diskspace import is_disk_full
from .._util.progress import ProgressCallback, silent
from ..config.resolved import Config
from ..data.loading import LoadedImages
from ..data.splits import SPLIT_NAMES, PatientSplit
from ..imaging.preprocess import PreprocessSpec
from ..plugins.registry import Registry
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import MetaFile
from ..runs.meta_file import StageRecord
from .results import (
    DataPlan,
    DataResult,
    GeneratorResult,
    StageResult,
    StageResults,
    TrainResult,
)


@dataclass
class RunContext:
    """One attempt at a run: its config, folder and ``meta.json``, and each stage's result.

    :param config: the validated config.
    :param registry: the loaded plugins' registry.
    :param run: the run folder.
    :param meta: ``meta.json`` as it is being written: set entries with
        :meth:`update_meta`, write it with :meth:`save_meta`.
    :param progress: receives progress events; the library never prints.
    :param resume: an earlier attempt exists; stages it finished may be kept.
    :param start: redo the run from this stage on (``--from``), keeping earlier ones.
    :param plan: the data listing and split made before the folder was created.
    :param results: each stage's result, by type, as the driver stores them.
    """

    config: Config
    registry: Registry
    run: rf.RunFolder
    meta: MetaFile
    progress: ProgressCallback = silent
    resume: bool = False
    start: str | None = None
    plan: DataPlan | None = None
    results: StageResults = field(default_factory=StageResults)
    _images: dict[str, LoadedImages] | None = field(default=None, repr=False)
    _model: Any = field(default=None, repr=False)

    @property
    def spec(self) -> PreprocessSpec:
        """The model input, as ``[preprocess]`` describes it."""
        return self.config.preprocess_spec()

    @property
    def seed(self) -> int:
        """``run.seed``."""
        return self.config.run.seed

    def the_split(self) -> PatientSplit:
        """The split: the generator's (its images in training) when it ran, else the data's."""
        generated = self.results.get(GeneratorResult)
        return generated.split if generated is not None else self.results.need(DataResult).split

    def images(self) -> dict[str, LoadedImages]:
        """The decoded images of each split, decoding them (through the cache) when needed."""
        if self._images is None:
            from ..data.loading import load_samples
            from ..data.lung_fields import run_lung_source

            split = self.the_split()
            lungs = run_lung_source(self.config)  # a decode also describes, for the audit
            self._images = {name: load_samples(split.assignment[name], self.spec,
                                               progress=self.progress, stage=f"decode {name}",
                                               lungs=lungs)
                            for name in SPLIT_NAMES}
        return self._images

    def labels(self) -> dict[str, np.ndarray]:
        """Class indices of each split's decoded images, in ``[data] classes`` order."""
        index = {c: i for i, c in enumerate(self.config.data.classes)}
        return {name: np.array([index[s.label] for s in part.samples], dtype=np.int64)
                for name, part in self.images().items()}

    def trained_model(self) -> Any:
        """The trained model: the train stage's, or ``model.keras`` when it is not in memory."""
        trained = self.results.get(TrainResult)
        if trained is not None and trained.model is not None:
            return trained.model
        if self._model is None:
            from ..train.backend import import_keras
            from ..train.checkpoint import check_keras_file

            check_keras_file(self.run.file(layout.MODEL))  # damage named, not "unexpected"
            self._model = import_keras().models.load_model(self.run.file(layout.MODEL))
        return self._model

    def record(self, stage: str, result: StageResult) -> None:
        """Mark ``stage`` finished in ``meta.json`` now, with its result's facts.

        Its outputs are already written; its top-level entries (``training``, ...) join
        ``meta.json`` in the same write.
        """
        done = StageRecord(done_at=rf.utc_now(), **result.facts())
        self.update_meta(**result.meta(), stages={**self.meta.stages, stage: done})
        self.save_meta()

    def finished(self, stage: str) -> StageRecord | None:
        """The record of ``stage`` when an earlier attempt finished it, else None."""
        return self.meta.stages.get(stage)

    def update_meta(self, **entries: Any) -> None:
        """Set top-level entries of ``meta.json`` (``status``, ``error``, ...), validated;
        :meth:`save_meta` writes them."""
        self.meta = self.meta.with_entries(entries)

    def save_meta(self) -> None:
        """Write ``meta.json`` as it stands.

        On a full disk the atomic write (a new temp file) cannot succeed; the
        file is then rewritten in place, so a failed run is still recorded as failed.
        """
        try:
            self.run.write_model(layout.META, self.meta)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self.run.overwrite_model(layout.META, self.meta)
