"""``bamnet score --engine ray``: the same scoring on Ray Data, from one machine to a cluster.

The pipeline is Ray's offline batch inference pattern: the file listing
(:mod:`.discovery`, or :mod:`.uri_files` for ``s3://``-style prefixes) becomes
a dataset (``ray.data.from_items``), ``map_batches`` runs the decode tasks,
then ``map_batches`` with :class:`.ray_actors.ScoringActor`, an actor pool
holding one onnxruntime session per worker. The driver receives only rows
(a path and a few numbers each), writes each batch as an atomic Parquet shard
(:mod:`.shards`) and, at the end, the merged CSV or JSON Lines output. A
killed run resumes from its shards. Ray is imported only here.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._util.logs import quieted
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..errors import BamnetError
from .discovery import Item, item_path, iter_image_paths
from .options import RayOptions, ScoreOptions
from .output import (
    ScoreSummary,
    format_for,
    make_parent,
    notify_takeover,
    output_lock,
    skip_done,
)
from .ray_actors import ScoringActor, decode_batch
from .ray_errors import RayUnavailableError, check_reachable, is_ray_failure, join_error, run_error
from .ray_local import guard_local_ray
from .resume import DecisionRule, OutputError
from .rows import csv_columns, record_from_columns
from .scorer import Scorer
from .shards import merge_shards, read_shard_paths, shard_folder, shards_exist, write_shard
from .uri_files import is_uri, iter_uri_images


def discover(paths: Iterable[str | Path], *, follow_links: bool = False,
             progress: ProgressCallback = silent) -> Iterator[Item]:
    """Local paths through :func:`iter_image_paths`, URIs through pyarrow; each path once.

    A folder link that is not followed is a ``notice`` event on ``progress``.
    """
    local = [p for p in paths if not is_uri(str(p))]
    yield from iter_image_paths(
        local, follow_links=follow_links,
        on_skip=lambda message: progress(ProgressEvent("notice", 0, None, message)))
    seen: set[str] = set()
    for uri in (str(p) for p in paths if is_uri(str(p))):
        for item in iter_uri_images(uri):
            if item_path(item) not in seen:
                seen.add(item_path(item))
                yield item


@contextmanager
def ray_session(options: RayOptions) -> Iterator[Any]:
    """Ray, initialised for this run: joined, started locally, or the caller's own."""
    try:
        import ray
    except ImportError:
        raise RayUnavailableError("--engine ray needs Ray", hint="pip install 'bamnet[distributed]'"
                                  ) from None
    owned = not ray.is_initialized()
    with ExitStack() as stack:
        if owned:
            _init(ray, options)
            # a Ray of our own: watched, stopped on leaving, and its processes stopped by a
            # watchdog if this process dies first; a joined cluster only disconnected
            stack.enter_context(guard_local_ray(ray, options.on_raylet_lost)
                                if not options.address else
                                _disconnecting(ray))
        stack.enter_context(_quiet_data(ray))
        with quieted("ray", "ray.data"):
            yield ray


def _init(ray: Any, options: RayOptions) -> None:
    if options.address:
        check_reachable(options.address)
    try:
        with quieted("ray", "ray.data"):
            # no --address: a Ray of our own, never a cluster that RAY_ADDRESS or a stale
            # /tmp/ray/ray_current_cluster happens to name (as the docs promise)
            ray.init(address=options.address or "local", num_cpus=None if options.address
                     else options.local_cpus, include_dashboard=False,
                     logging_level=logging.ERROR, log_to_driver=False)
    except Exception as exc:  # ConnectionError, RuntimeError, AuthenticationError, ...
        raise join_error(options.address, exc) from None


@contextmanager
def _disconnecting(ray: Any) -> Iterator[None]:
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def _quiet_data(ray: Any) -> Iterator[None]:
    """Ray Data's progress bars and statistics off for the run, then as they were."""
    context = ray.data.DataContext.get_current()
    saved = (context.enable_progress_bars, context.enable_operator_progress_bars,
             context.enable_auto_log_stats)
    context.enable_progress_bars = context.enable_operator_progress_bars = False
    context.enable_auto_log_stats = False
    try:
        yield
    finally:
        (context.enable_progress_bars, context.enable_operator_progress_bars,
         context.enable_auto_log_stats) = saved


def _prepare(output: Path, rule: DecisionRule, resume: bool) -> set[str]:
    folder = shard_folder(output)
    if resume:
        if output.exists() and not shards_exist(folder):
            raise OutputError(f"{output} was not written by --engine ray (no {folder.name}/)",
                              hint="resume it without --engine ray, or write to a new --output")
        return read_shard_paths(folder, rule)
    if output.exists() or shards_exist(folder):
        raise OutputError(f"{output} already exists" if output.exists() else
                          f"{folder} holds shards of an earlier run",
                          hint="pass --resume to continue it, or choose another --output")
    return set()


def score_with_ray(model: str | Path, paths: Iterable[str | Path],
                   options: ScoreOptions, *, progress: ProgressCallback = silent) -> ScoreSummary:
    """Score ``paths`` on Ray Data into ``options.output`` (CSV or JSON Lines) and its shards.

    The model, threshold and output are checked before Ray starts or any file
    is created; ``options.resume`` skips the paths already in the shards.
    ``options.uids`` writes the UID columns (:mod:`.uids`), as local scoring does;
    ``options.ray`` says where and how wide to run, ``options.workers`` how many actors.
    """
    if options.output is None:
        raise OutputError("the Ray engine writes to a file", hint="pass --output FILE")
    paths = list(paths)
    scorer = Scorer(model, provider="cpu", threshold=options.threshold)
    output = options.output
    format_for(output)
    make_parent(output)
    with output_lock(output) as lock:  # the output and its shards: one owner
        notify_takeover(lock, progress)
        return _score_locked(paths, scorer, output, options, progress)


def _score_locked(paths: list[str | Path], scorer: Scorer, output: Path, options: ScoreOptions,
                  progress: ProgressCallback) -> ScoreSummary:
    classes, folder = scorer.classes, shard_folder(output)
    done = _prepare(output, DecisionRule(classes, scorer.threshold, scorer.sha256, options.uids),
                    options.resume)
    summary = ScoreSummary(provider="", variant=scorer.variant, model_sha256=scorer.sha256,
                           output=str(output), max_errors_listed=options.max_errors_listed)
    start = time.perf_counter()
    rows: list[dict[str, str]] = []
    for item in skip_done(discover(paths, follow_links=options.follow_links,
                                          progress=progress), done, summary):
        rows.append({"path": item_path(item),
                     "error": item.reason if isinstance(item, BamnetError) else ""})
        if len(rows) % 1000 == 0:
            progress(ProgressEvent("discover", len(rows), None, "finding images"))
    progress(ProgressEvent("discover", len(rows), len(rows), "finding images"))
    if rows:
        with ray_session(options.ray) as ray:
            try:
                _run(ray, rows, scorer, folder, options, summary, progress)
            except Exception as exc:
                if is_ray_failure(exc):
                    raise run_error(exc) from None
                raise
    if rows or (options.resume and done):
        merge_shards(folder, output, format_for(output), classes, options.uids)
    summary.seconds = time.perf_counter() - start
    return summary


def _run(ray: Any, rows: list[dict[str, str]], scorer: Scorer, folder: Path,
         options: ScoreOptions, summary: ScoreSummary, progress: ProgressCallback) -> None:
    classes, uids, batch_size = scorer.classes, options.uids, options.batch_size
    blocks = max(1, min(math.ceil(len(rows) / batch_size), 100_000))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks)
    dataset = dataset.map_batches(
        decode_batch, batch_size=batch_size, batch_format="numpy", num_cpus=1,
        fn_kwargs={"spec_json": scorer.info.spec.to_json(), "max_pixels": options.max_pixels,
                   "max_bytes": options.max_bytes, "uids": uids})
    dataset = dataset.map_batches(
        ScoringActor, batch_size=batch_size, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=options.workers or 1),
        num_cpus=options.ray.cpus_per_worker, num_gpus=options.ray.gpus_per_worker or None,
        fn_constructor_kwargs={"model": [ray.put(scorer.model_path.read_bytes())],
                               "sha256": scorer.sha256,
                               "threshold": options.threshold, "provider": options.provider,
                               "threads": options.ray.threads})
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    report = {"failed": 0, "provider": ""}
    progress(ProgressEvent("score", 0, len(rows), "scoring on Ray", dict(report)))
    # closed on the way out, whatever ends the loop (Ctrl-C included), so Ray Data's executor
    # stops before ray.shutdown(), not whenever the garbage collector reaches the iterator
    with closing(iter(dataset.iter_batches(batch_size=None, batch_format="numpy"))) as batches:
        for n, batch in enumerate(batches):
            if not len(batch["path"]):
                continue
            summary.provider = report["provider"] = str(batch["provider"][0])
            write_shard(folder, f"part-{run_id}-{n:06d}.parquet", batch, classes, uids)
            keys = csv_columns(classes, uids)
            records = [replace(record_from_columns({k: batch[k][i] for k in keys}, classes, uids),
                               note=(str(batch["note"][i]) or None) if uids else None)
                       for i in range(len(batch["path"]))]
            summary.count(records)
            report["failed"] = summary.failed
            progress(ProgressEvent("score", summary.scored + summary.failed, len(rows),
                                   "scoring on Ray", dict(report)))
