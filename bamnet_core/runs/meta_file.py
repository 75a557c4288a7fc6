"""``meta.json``: versions, plugin pins, seed, device, status, stage records and timings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .versioned import Part, RunFile

Status = Literal["running", "complete", "stopped", "interrupted", "failed", "evaluators-failed"]


class StageRecord(Part):
    """A finished stage: when it finished, and the facts it chose to record (kept as given)."""

    done_at: str = Field(description="ISO 8601 UTC time the stage finished")


class MetaFile(RunFile):
    """``meta.json``: what ran, where, and how far it got.

    ``status`` is ``running`` until the run ends; ``stages`` names each stage an
    attempt finished (``bamnet resume`` keeps those). Written first when the run
    folder is made, then after every stage.
    """

    bamnet_version: str = Field(description="the bamnet that made the run")
    python: str = Field("", description="Python version")
    platform: str = Field("", description="operating system and machine")
    plugins: list[str] = Field(default_factory=list, description="plugin distributions, pinned")
    seed: int = Field(0, description="run.seed")
    config_origin: str = Field("", description="the preset or file the config came from")
    status: Status = Field("running", description="how the last attempt ended")
    started_at: str = Field("", description="ISO 8601 UTC time the run started")
    finished_at: str | None = Field(None, description="when the last attempt ended")
    resumed_at: list[str] = Field(default_factory=list, description="when it was resumed")
    error: str | None = Field(None, description="why the last attempt failed")
    stopped_after: str | None = Field(None, description="the stage --until stopped after")
    device: dict[str, Any] | None = Field(None, description="Keras backend and devices")
    timings_s: dict[str, float] = Field(default_factory=dict,
                                        description="wall seconds of each stage")
    stages: dict[str, StageRecord] = Field(default_factory=dict,
                                           description="stage name -> its record")
    training: dict[str, Any] | None = Field(None, description="how training ran (precision, "
                                            "distribution, best epoch, ...)")
    report: dict[str, Any] | None = Field(None, description="the report's files, or its error")
    export: dict[str, Any] | None = Field(None, description="the exported files, run-relative")
