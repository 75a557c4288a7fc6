"""``bamnet score MODEL.onnx PATH...``: batch inference with onnxruntime, no TensorFlow.

Exit codes: 0 every file scored; 3 some files could not be scored (each is a
row with its error); 1 an error stopped the run; 2 a usage error.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import BamnetError, Interrupted
from ..imaging.limits import DEFAULT_MAX_BYTES
from .errors import render_error
from .output import JsonOption, err, notice, print_json, warn
from .progress import RichProgress

EXIT_SOME_FAILED = 3
DEFAULT_MAX_MB = DEFAULT_MAX_BYTES / (1024 * 1024)

if TYPE_CHECKING:
    from ..score.options import ScoreOptions
    from ..score.output import ScoreSummary


def register(app: typer.Typer, state: object) -> None:
    """Add the ``score`` command to ``app``."""

    @app.command("score")
    def score(
        model: Annotated[Path, typer.Argument(help="A model from `bamnet export --onnx`.")],
        paths: Annotated[list[str], typer.Argument(
            help="Image files and folders (recursive); with --engine ray also URIs (s3://...).")],
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="Write rows to FILE.csv or FILE.jsonl (default: stdout).")
        ] = None,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1,
                                                help="Images per inference call.")] = 32,
        provider: Annotated[str, typer.Option(
            "--provider", help="auto (CUDA if usable, else CPU), cuda or cpu.")] = "auto",
        threshold: Annotated[float | None, typer.Option(
            "--threshold", help="Replace the model's positive-class threshold.")] = None,
        resume: Annotated[bool, typer.Option(
            "--resume", help="Skip paths already in --output (continue a killed run).")] = False,
        workers: Annotated[int | None, typer.Option(
            "--workers", min=1, help="Local: decoding threads (default: the usable cores). "
                                     "Ray: scoring actors (default 1).")] = None,
        max_file_mb: Annotated[float, typer.Option(
            "--max-file-mb", min=0.001, help="Refuse files larger than this (from stat, "
                                             "before reading).")] = DEFAULT_MAX_MB,
        engine: Annotated[str, typer.Option(
            "--engine", help="local (this process) or ray (Ray Data; see "
                             "docs/scoring-at-scale.md).")] = "local",
        address: Annotated[str | None, typer.Option(
            "--address", help="Ray: join this cluster (default: start a local Ray).")] = None,
        gpus_per_worker: Annotated[float, typer.Option(
            "--gpus-per-worker", min=0.0, help="Ray: GPUs each scoring actor reserves.")
        ] = 0.0,
        uids: Annotated[bool, typer.Option(
            "--uids/--no-uids", help="Add the columns sop_instance_uid and study_instance_uid "
                                     "(from DICOM headers; empty for other files).")] = True,
        follow_links: Annotated[bool, typer.Option(
            "--follow-links", help="Follow folder links that lead out of a scored folder "
                                   "(never into /proc, /sys or /dev, never a loop).")] = False,
        sr: Annotated[Path | None, typer.Option(
            "--sr", help="Write one DICOM Structured Report per scored DICOM image into "
                         "this folder (see docs/hospital.md).")] = None,
        json_: JsonOption = False,
    ) -> None:
        """Score images; rows go out as they are produced. Exit 3 if some files failed."""
        from ..score.options import RayOptions, ScoreOptionError, ScoreOptions

        try:
            options = ScoreOptions(
                output=output, stream_format="jsonl" if json_ else "csv", threshold=threshold,
                provider=provider, resume=resume, batch_size=batch_size,  # type: ignore[arg-type]
                workers=workers, max_bytes=int(max_file_mb * 1024 * 1024), uids=uids,
                follow_links=follow_links, sr=sr,
                engine=engine, ray=RayOptions(address=address,  # type: ignore[arg-type]
                                              gpus_per_worker=gpus_per_worker))
        except ScoreOptionError as exc:
            raise typer.BadParameter(exc.message, param_hint=exc.option) from None
        show = not json_ or output is not None
        with continue_hint(model, paths, options):
            summary = _score(model, paths, options, json_)
        _report(summary, paths, output, json_, show)


def _score(model: Path, paths: list[str], options: ScoreOptions, json_: bool) -> ScoreSummary:
    """Call the engine's library function, with a progress display."""
    from ..score.discovery import iter_image_paths
    from ..score.output import score_to_output
    from ..score.scorer import Scorer

    if options.engine == "ray":
        from ..score.ray_engine import score_with_ray
        from .noise import ray_logs_hidden
        from .ray_auth import use_local_token

        said = use_local_token(options.ray.address)
        if said:
            notice(said)
        with ray_logs_hidden(), RichProgress(enabled=not json_) as bar:
            options = replace(options, ray=replace(
                options.ray, on_raylet_lost=functools.partial(_raylet_lost, bar)))
            return score_with_ray(model, paths, options, progress=bar)
    scorer = Scorer(model, provider=options.provider, threshold=options.threshold)
    with RichProgress(enabled=not json_) as bar:
        found = iter_image_paths(paths, follow_links=options.follow_links, on_skip=notice)
        return score_to_output(scorer, found, options, stream=sys.stdout, progress=bar)


def _raylet_lost(bar: RichProgress, exc: BamnetError) -> None:
    """This machine's raylet is gone: Ray ends this process from C++ within seconds, so say
    so now, in one line, and exit (the shards are whole; the watchdog stops Ray)."""
    bar.progress.stop()
    code = render_error(exc)
    sys.stderr.flush()
    os._exit(code)


@contextmanager
def continue_hint(model: Path, paths: list[str], options: ScoreOptions) -> Iterator[None]:
    """Turn Ctrl-C or SIGTERM into :class:`Interrupted`: the rows kept, the command to go on."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt as exc:
        if options.output is None:
            raise Interrupted("the rows printed so far are all there is (no --output)",
                              None) from exc
        raise Interrupted(f"the rows written so far are in {options.output}",
                          options.continue_command(model, paths)) from exc


def _report(summary: ScoreSummary, paths: list[str], output: Path | None, json_: bool,
            show: bool) -> None:
    """Print the summary; exit 3 when some files failed."""
    if summary.scored + summary.failed + summary.skipped == 0:
        raise BamnetError(f"no images found in {', '.join(map(str, paths))}",
                          hint="score .png .jpg .jpeg .bmp .tif .tiff .dcm files or folders")
    if json_ and output is not None:
        print_json(summary.to_dict())
    elif show and not json_:
        console = err()
        images = "image" if summary.scored == 1 else "images"
        done = (f"Scored {summary.scored} {images}, {summary.failed} failed, "
                f"{summary.skipped} already done, in {summary.seconds:.1f} s "
                f"({summary.images_per_s:.1f} img/s)" if summary.scored else
                f"Nothing was scored: {summary.failed} failed, {summary.skipped} already "
                f"done, in {summary.seconds:.1f} s")  # no rate: no image was scored
        console.print(
            f"{done} on {summary.provider}"
            + (f", {summary.variant} model." if summary.variant else ".")
            + (f" Rows in {output}." if output else "")
            + (f" {summary.structured_reports} structured reports in {summary.sr_folder}."
               if summary.sr_folder is not None else ""), highlight=False, soft_wrap=True)
        for item in summary.errors[:10]:
            warn(f"{item['path']}: {item['error']}")
        if summary.failed > 10:
            warn(f"... and {summary.failed - 10} more; see the error column")
        for item in summary.notes[:10]:
            warn(f"{item['path']}: {item['note']}")
        if summary.noted > 10:
            warn(f"... and {summary.noted - 10} more files with a UID left empty")
    if summary.failed:
        raise typer.Exit(EXIT_SOME_FAILED)
