"""``split.json``: every sample with its split, exactly (``splits.csv`` is the same, for people)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .versioned import Part, RunFile


class RecordedSample(Part):
    """One sample as the split records it (:class:`bamnet_core.contract.sample.Sample`).

    ``path`` is relative to the run folder for what the run made, absolute and
    canonical for original data.
    """

    path: str
    label: str
    patient_id: str
    source: str = ""
    view: str | None = None
    demographics: dict[str, Any] = Field(default_factory=dict, description="age, sex, ...")
    synthetic: bool = False
    generator: str | None = None
    generator_seed: int | None = None
    generator_checkpoint: str | None = Field(None, description="run-relative, like path")
    generator_index: int | None = None
    study: str | None = None
    manufacturer: str | None = None
    modality: str | None = None


class SplitFile(RunFile):
    """``split.json``: what ``bamnet resume`` reloads instead of listing and splitting again.

    ``version`` is the layout of the sample paths (2: relative to the run folder
    or absolute and canonical); a split of another ``version`` is made again.
    """

    version: int = Field(description="sample path layout (2: run-relative or canonical)")
    by: Literal["patient", "image"] = Field(description="what the split groups by")
    seed: int = Field(description="the seed of the split")
    split_notes: list[str] = Field(default_factory=list, description="what splitting noted")
    notes: list[str] = Field(default_factory=list, description="what the data stage noted")
    generator: dict[str, Any] | None = Field(None, description="what the generator made "
                                             "(the run's synthesis summary), or null")
    assignment: dict[str, list[RecordedSample]] = Field(description="split name -> samples")
