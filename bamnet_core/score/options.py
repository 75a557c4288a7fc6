"""How one scoring run scores and writes: :class:`ScoreOptions`, checked once, passed down.

``bamnet score`` builds one :class:`ScoreOptions` from its command line and hands it to
the local engine (:func:`.output.score_to_output`) or the Ray engine
(:func:`.ray_engine.score_with_ray`); neither takes the options one by one. A
combination that cannot work (``--resume`` without an output, the Ray engine
writing to stdout) is refused here, naming the option, before any model is opened.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import ConfigError
from ..imaging.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from .session import Provider

if TYPE_CHECKING:
    from ..errors import BamnetError

Engine = Literal["local", "ray"]
Format = Literal["csv", "jsonl"]
ENGINES: tuple[Engine, ...] = ("local", "ray")
PROVIDERS: tuple[Provider, ...] = ("auto", "cuda", "cpu")
#: called from a watching thread when a local Ray's raylet exits mid-run (:mod:`.ray_local`)
OnLost = Callable[["BamnetError"], None]


class ScoreOptionError(ConfigError):
    """Options that cannot work together; ``option`` names the command-line flag to change."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message, hint=f"change {option}")
        self.option = option


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide the Ray engine runs.

    :param address: a running cluster (``ray start --head`` prints it); ``None``
        starts a local Ray instance for this run.
    :param gpus_per_worker: GPUs each actor reserves (CUDA provider when > 0).
    :param cpus_per_worker: CPUs each actor reserves.
    :param local_cpus: CPUs a local instance may use (default: all).
    :param threads: onnxruntime threads per actor (default: onnxruntime's choice).
    :param on_raylet_lost: for a local Ray only: called from a watching thread with a
        :class:`.ray_local.RayletLostError` when this machine's raylet exits mid-run.
        Ray ends the process from C++ seconds later, so it should report and exit.
    """

    address: str | None = None
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0
    local_cpus: int | None = None
    threads: int | None = None
    on_raylet_lost: OnLost | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ScoreOptions:
    """Everything a scoring run needs besides the model and the paths.

    :param output: the CSV or JSON Lines file the rows go to; ``None`` writes them to a
        stream (local engine only).
    :param stream_format: the rows' format on that stream (``csv`` or ``jsonl``); a file's
        format comes from its suffix.
    :param threshold: replace the model's positive-class threshold.
    :param provider: ``auto`` (CUDA if usable, else CPU), ``cuda`` or ``cpu``.
    :param resume: skip the paths already in ``output`` (continue a killed run).
    :param batch_size: images per inference call.
    :param workers: local: decoding threads (default: the usable cores); Ray: scoring
        actors (default 1).
    :param max_bytes: files larger than this are error rows, refused from ``stat``.
    :param max_pixels: decoded images larger than this are error rows.
    :param uids: write the DICOM UID columns (:mod:`.uids`; empty for other files).
    :param max_errors_listed: how many failed files the summary lists.
    :param engine: ``local`` (this process) or ``ray`` (Ray Data).
    :param ray: where and how wide the Ray engine runs.
    :param follow_links: follow folder links that lead out of a scored folder (never into
        ``/proc``, ``/sys`` or ``/dev``, never a loop).
    :param sr: write one DICOM Structured Report per scored DICOM image into this folder
        (:mod:`.sr_output`; local engine only).
    :raises ScoreOptionError: for a combination that cannot work.
    """

    output: Path | None = None
    stream_format: Format = "csv"
    threshold: float | None = None
    provider: Provider = "auto"
    resume: bool = False
    batch_size: int = 32
    workers: int | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    uids: bool = True
    max_errors_listed: int = 100
    engine: Engine = "local"
    ray: RayOptions = RayOptions()
    follow_links: bool = False
    sr: Path | None = None

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ScoreOptionError("use auto, cuda or cpu", "--provider")
        if self.engine not in ENGINES:
            raise ScoreOptionError("use local or ray", "--engine")
        if self.batch_size < 1:
            raise ScoreOptionError(f"batch size must be at least 1, got {self.batch_size}",
                                   "--batch-size")
        if self.resume and self.output is None:
            raise ScoreOptionError("--resume needs --output FILE", "--resume")
        if self.engine == "ray" and self.output is None:
            raise ScoreOptionError("--engine ray needs --output FILE", "--output")
        if self.engine == "ray" and self.sr is not None:
            raise ScoreOptionError("--sr needs --engine local", "--sr")
        if self.engine == "local" and (self.ray.address or self.ray.gpus_per_worker):
            raise ScoreOptionError("--address and --gpus-per-worker need --engine ray",
                                   "--engine")

    def continue_command(self, model: Path, paths: Sequence[str]) -> str:
        """The ``bamnet score`` command that continues this run (``--resume``) after a stop."""
        command = ["bamnet", "score", str(model), *paths, "--output", str(self.output)]
        if self.engine == "ray":
            command += ["--engine", "ray",
                        *(["--address", self.ray.address] if self.ray.address else [])]
        if not self.uids:
            command.append("--no-uids")
        if self.follow_links:
            command.append("--follow-links")
        if self.sr is not None:
            command += ["--sr", str(self.sr)]
        return shlex.join([*command, "--resume"])
