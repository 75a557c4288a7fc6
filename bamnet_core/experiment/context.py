"""What every stage of a run needs, in one object: :class:`RunContext`.

The stages (:mod:`.pipeline`) read their inputs from the context and leave
their results on it: the split, the generator's summary, the decoded images,
the audit, the trained model, the metrics and the delivered files. A stage a
resumed run keeps loads its result onto the context instead of computing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._util.diskspace import is_disk_full
from .._util.progress import ProgressCallback, silent
from ..config.resolved import Config
from ..data.splits import SPLIT_NAMES, PatientSplit
from ..errors import RunError
from ..imaging.preprocess import PreprocessSpec
from ..plugins.registry import Registry
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import MetaFile

if TYPE_CHECKING:
    from ..data.loading import LoadedImages
    from .audit_stage import RunAudit
    from .data_stage import DataPlan


@dataclass
class RunResult:
    """What a finished (or stopped) run produced.

    :param worker: set on a worker other than the chief of a multi-worker run
        (``"worker 1 of 2 (host:port)"``): its ``run_dir`` was scratch, now removed.
    """

    run_dir: Path
    metrics: dict[str, Any]
    warnings: list[str]
    files: dict[str, str] = field(default_factory=dict)
    worker: str | None = None


@dataclass
class RunContext:
    """One attempt at a run: its config, folder and ``meta.json``, and each stage's result.

    :param config: the validated config.
    :param registry: the loaded plugins' registry.
    :param run: the run folder.
    :param meta: ``meta.json`` as it is being written.
    :param progress: receives progress events; the library never prints.
    :param resume: an earlier attempt exists; stages it finished may be kept.
    :param start: redo the run from this stage on (``--from``), keeping earlier ones.
    :param plan: the data listing and split made before the folder was created.
    """

    config: Config
    registry: Registry
    run: rf.RunFolder
    meta: dict[str, Any]
    progress: ProgressCallback = silent
    resume: bool = False
    start: str | None = None
    plan: DataPlan | None = None
    split: PatientSplit | None = None
    notes: list[str] = field(default_factory=list)
    synthesis: dict[str, Any] | None = None
    loaded: dict[str, LoadedImages] | None = None
    audit: RunAudit | None = None
    model: Any = None
    metrics: dict[str, Any] | None = None
    predictions: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> PreprocessSpec:
        """The model input, as ``[preprocess]`` describes it."""
        return self.config.preprocess_spec()

    @property
    def seed(self) -> int:
        """``run.seed``."""
        return self.config.run.seed

    def the_split(self) -> PatientSplit:
        """The split (the data stage sets it, or loads it when kept)."""
        if self.split is None:
            raise RunError("internal: a stage needs the split before the data stage ran")
        return self.split

    def images(self) -> dict[str, LoadedImages]:
        """The decoded images of each split, decoding them (through the cache) when needed."""
        if self.loaded is None:
            from ..data.loading import load_samples

            split = self.the_split()
            self.loaded = {name: load_samples(split.assignment[name], self.spec,
                                              progress=self.progress, stage=f"decode {name}")
                           for name in SPLIT_NAMES}
        return self.loaded

    def labels(self) -> dict[str, np.ndarray]:
        """Class indices of each split's decoded images, in ``[data] classes`` order."""
        index = {c: i for i, c in enumerate(self.config.data.classes)}
        return {name: np.array([index[s.label] for s in part.samples], dtype=np.int64)
                for name, part in self.images().items()}

    def trained_model(self) -> Any:
        """The trained model: the train stage's, or ``model.keras`` when the stage was kept."""
        if self.model is None:
            from ..train.backend import import_keras
            from ..train.checkpoint import check_keras_file

            check_keras_file(self.run.file(layout.MODEL))  # damage named, not "unexpected"
            self.model = import_keras().models.load_model(self.run.file(layout.MODEL))
        return self.model

    def record(self, stage: str, **facts: Any) -> None:
        """Mark ``stage`` finished in ``meta.json`` now (its outputs are already written)."""
        self.meta.setdefault("stages", {})[stage] = {"done_at": rf.utc_now(), **facts}
        self.save_meta()

    def finished(self, stage: str) -> dict[str, Any] | None:
        """The record of ``stage`` when an earlier attempt finished it, else None."""
        found = self.meta.get("stages", {}).get(stage)
        return found if isinstance(found, dict) else None

    def save_meta(self) -> None:
        """Write ``meta.json`` as it stands.

        On a full disk the atomic write (a new temp file) cannot succeed; the
        file is then rewritten in place, so a failed run is still recorded as failed.
        """
        try:
            self.run.write_model(layout.META, MetaFile.model_validate(self.meta))
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self.run.overwrite_model(layout.META, MetaFile.model_validate(self.meta))
