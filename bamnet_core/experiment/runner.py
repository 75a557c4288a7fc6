"""``bamnet run``: a new run, or the resumption of one, driven through the stage list.

:func:`run_experiment` checks everything that needs no data, then plans
the data (:mod:`.preflight`), creates the run folder and drives the stages
(:mod:`.pipeline`); :func:`resume_experiment` runs the same preflight on the
run folder's config and continues it, keeping what earlier attempts
finished. Each stage's output lands in the run folder as soon as it exists,
atomically. A run trained by several processes
(``TF_CONFIG``) keeps one folder, the chief's (:mod:`.workers`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from .._util.digest import text_digest
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..config.load import load_config
from ..config.resolved import Config
from ..errors import RunError
from ..plugins.manager import PluginHost
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import IntegrityFile, MetaFile
from ..runs.integrity import (
    check_key,
    key_at_start,
    refuse_changed,
    refuse_changed_config,
    refuse_other_key,
    warn_other_key,
)
from .context import RunContext
from .pipeline import NAMES, RERUNNABLE, STAGES, drive
from .preflight import plan_run, preflight
from .results import DataPlan, RunResult
from .workers import check_resumable, start, worker_until

#: A redo from these stages reads only the run folder, never the data (the export decodes
#: validation images for its parity gate, so a redo from it needs them).
READS_NO_DATA = ("report",)

__all__ = ["STAGES", "Resumable", "RunResult", "check_resumable_folder", "resume_experiment",
           "run_experiment"]


def run_experiment(
    config: Config,
    host: PluginHost,
    *,
    output_dir: str | Path = "runs",
    progress: ProgressCallback = silent,
    until: str | None = None,
    plan: DataPlan | None = None,
) -> RunResult:
    """Run one experiment end to end and return where its results are.

    :param config: a validated config (see :func:`bamnet_core.config.load_config`).
    :param host: loaded plugins; the run refuses to start if any is broken.
    :param output_dir: the run folder is created inside it (by the chief alone when
        ``TF_CONFIG`` makes the run multi-worker: every other worker trains in a
        scratch folder, removed when it ends, and returns a result with ``worker`` set).
    :param progress: receives progress events; the library never prints.
    :param until: stop after this stage (see :data:`~.pipeline.STOPPABLE`);
        ``bamnet resume`` continues.
    :param plan: what :func:`~.preflight.plan_run` returned for this config, when the
        caller ran :func:`~.preflight.preflight` and planned first (the CLI does, before
        importing Keras); without it, both run here.
    :raises BamnetError: a check that failed before the folder was created, or a
        stage that failed (the folder then records it).
    """
    if plan is None:
        preflight(config, host, until=until)
        plan = plan_run(config)
    cluster = getattr(start(config), "cluster", None)
    if cluster is not None and not cluster.chief:
        with tempfile.TemporaryDirectory(prefix=f"bamnet-worker{cluster.rank}-") as scratch:
            result = _start(rf.RunFolder.create(scratch, config.run.name), config, host,
                            progress, worker_until(until), plan)
        return replace(result, worker=cluster.describe())
    return _start(rf.RunFolder.create(output_dir, config.run.name), config, host, progress,
                  until, plan)


def _start(run: rf.RunFolder, config: Config, host: PluginHost, progress: ProgressCallback,
           until: str | None, plan: DataPlan) -> RunResult:
    with run.lock():
        meta = rf.base_meta(seed=config.run.seed, plugin_pins=host.pins(),
                            config_origin=config.origin)
        resolved = config.to_toml()
        run.write_text(layout.CONFIG, resolved)
        run.write_text(layout.PREPROCESS, config.preprocess_spec().to_json() + "\n")
        ids = [value for samples in plan.split.assignment.values() for s in samples
               for value in (s.patient_id, s.study)]
        run.start_record(config_sha256=text_digest(resolved), pseudonym_key=key_at_start(ids),
                         names=[layout.CONFIG, layout.PREPROCESS])
        ctx = RunContext(config, host.registry, run, meta, progress, plan=plan)
        ctx.save_meta()
        return drive(ctx, until=until)


@dataclass(frozen=True)
class Resumable:
    """A run folder that passed the preflight, with its config and the ``--from`` stage,
    and what the checks of its record found worth a notice."""

    run: rf.RunFolder
    config: Config
    start: str | None = None
    notices: tuple[str, ...] = ()


def check_resumable_folder(run_dir: str | Path, host: PluginHost, *,
                           start: str | None = None) -> Resumable:
    """The preflight of ``bamnet resume``: the plugins, the folder, its config and ``--from``.

    The data's inputs are checked unless the redo reads only the folder (``--from
    report``). Nothing is written or listed. The run's record comes first
    (:mod:`bamnet_core.runs.integrity`): every recorded file of a stage it keeps must be
    what that stage wrote, the config must resolve as it did, and the pseudonym key must
    be there (and be the run's, where the data would be listed again).

    :raises BamnetError: the first check that fails.
    """
    host.raise_for_failures()  # before the folder's config loads through the plugins
    run = rf.RunFolder(run_dir)
    if not run.path.is_dir() or not run.file(layout.CONFIG).is_file() or \
            not run.file(layout.META).is_file():
        raise RunError(f"{run.path} is not a bamnet run folder (no {layout.CONFIG} and "
                       f"{layout.META})",
                       hint="pass a folder that `bamnet run` created, e.g. runs/<stamp>-<name>")
    record = run.read_record()
    notice = refuse_changed(run, _kept_files(run, record, start), record=record)
    config = load_config(str(run.file(layout.CONFIG)), host.registry)
    refuse_changed_config(run, record, config.to_toml())
    notices = tuple(n for n in (notice, _check_key(run, record)) if n)
    check_resumable(config)
    preflight(config, host, start=start, inputs=start not in READS_NO_DATA)
    return Resumable(run, config, start, notices)


def _kept_files(run: rf.RunFolder, record: IntegrityFile | None,
                start: str | None) -> list[str]:
    """The recorded files a resume checks: not those the stages from ``start`` on write
    again, nor, once training finished, the checkpoint's models and ``best.keras`` (large,
    and read only by a training that goes on; ``bamnet verify`` still checks them)."""
    if record is None:
        return []
    redone = set(NAMES[NAMES.index(start):]) if start in NAMES else set()
    try:
        trained = "train" in run.read_model(layout.META, MetaFile).stages
    except RunError:  # damaged: said by name where meta.json is read
        trained = False
    def unread(name: str) -> bool:
        return trained and (name == layout.BEST or name.startswith(f"{layout.CHECKPOINT}/")
                            and name.endswith(".keras"))

    return [name for name, entry in record.files.items()
            if entry.stage not in redone and not unread(name)]


def _check_key(run: rf.RunFolder, record: IntegrityFile | None) -> str | None:
    """Refuse a missing pseudonym key (the export and a shareable report make pseudonyms,
    and a new key is never made behind the user's back), and another key where the data
    would be listed again; another key for a kept split is a notice.
    """
    listed = "data" in run.read_model(layout.META, MetaFile).stages
    if listed and check_key(record).status != "missing":
        return warn_other_key(record, harmless="the kept split does not change, but a "
                              "shareable report made now names its patients by other "
                              "pseudonyms")
    refuse_other_key(run, record, why="the data would be listed again, and its patients "
                                      "named by other pseudonyms than the run's")
    return None


def resume_experiment(run_dir: str | Path | Resumable, host: PluginHost, *,
                      progress: ProgressCallback = silent,
                      start: str | None = None) -> RunResult:
    """Continue a killed, failed or stopped run in ``run_dir``, from any working directory.

    The config is the run folder's ``config.toml``. Stages an earlier attempt
    finished are kept, not run again: the data listing and split, the
    generator's images and the audit come from the folder
    (:mod:`bamnet_core.experiment.stage_records`); decoded images come from the
    cache and training continues from its last completed epoch. A split that
    must be recomputed has to equal the folder's ``splits.csv``.

    :param run_dir: the folder, or what :func:`check_resumable_folder` returned for it
        (the CLI checks first, before importing Keras).
    :param start: redo the run from this stage on (``evaluate``, ``export`` or
        ``report``), even when the run is complete.
    """
    checked = run_dir if isinstance(run_dir, Resumable) else \
        check_resumable_folder(run_dir, host, start=start)
    with checked.run.lock() as lock:
        if lock.took_over:
            progress(ProgressEvent("notice", 0, None, lock.took_over))
        for notice in checked.notices:
            progress(ProgressEvent("notice", 0, None, notice))
        return _resume_locked(checked, host, progress)


def _resume_locked(checked: Resumable, host: PluginHost,
                   progress: ProgressCallback) -> RunResult:
    run, start = checked.run, checked.start
    meta = run.read_model(layout.META, MetaFile)
    if meta.status == "complete" and start is None:
        raise RunError(f"{run.path} is complete; there is nothing to resume",
                       hint=f"start a new run (bamnet run {run.file(layout.CONFIG)}), or redo "
                            f"a late stage (bamnet resume {run.path} --from "
                            f"{'|'.join(RERUNNABLE)})")
    meta = meta.with_entries({"resumed_at": [*meta.resumed_at, rf.utc_now()],
                              "status": "running", "error": None, "stopped_after": None})
    ctx = RunContext(checked.config, host.registry, run, meta, progress, resume=True,
                     start=start)
    return drive(ctx)
