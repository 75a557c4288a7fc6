"""``export-report.json``: what export checked and measured for each ONNX model it wrote.

Paths in it are relative to the folder that holds it (the run folder, unless
``bamnet export -o`` put the models elsewhere), so the folder can move.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .versioned import Count, Part, RunFile


class Gate(Part):
    """A model's gate: what it was checked against, each check, and whether it passed."""

    against: str = Field(description="keras (fp32) or fp32 (a variant)")
    passed: bool
    written: bool = Field(False, description="the model file was published")
    checks: list[dict[str, Any]] = Field(default_factory=list)


class ExportedModel(Part):
    """One exported model (fp32, int8, fp16): its file, parity, quality, speed and gate."""

    path: str = Field(description="the model file, relative to this report's folder")
    inference_images_per_s: float | None = Field(
        None, description="median of the timing rounds' rates (export/speed.py)")
    inference_images_per_s_range: list[float] | None = Field(
        None, description="[slowest, fastest] round, images/s")
    timed_images: Count | None = Field(None, description="inferences timed, all rounds together")
    timing_rounds: int | None = None
    fastest: bool = False
    gate: Gate | None = None


class ExportReportFile(RunFile):
    """``export-report.json``: the export's gates and measurements."""

    run: str = Field(description="the run folder, relative to this report's folder ('.' when "
                     "it is the run folder)")
    bamnet_version: str
    opset: int
    created_at: str = Field(description="ISO 8601 UTC")
    validation_images: Count = Field(description="validation images the gates ran on")
    validation_batches: int | None = None
    limits: dict[str, Any] = Field(default_factory=dict, description="the gates' limits")
    undecodable_validation_images: list[str] = Field(default_factory=list)
    models: dict[str, ExportedModel] = Field(default_factory=dict,
                                             description="fp32 / int8 / fp16 -> its entry")
    fastest: str | None = Field(None, description="the model that passed its gate and whose "
                                "every timing round beat every other passing model's; none "
                                "when their ranges overlap")
    timings_s: dict[str, float] = Field(default_factory=dict, description="wall seconds per "
                                        "step")
