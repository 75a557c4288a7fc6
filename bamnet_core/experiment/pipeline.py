"""The stages of a run, in order, and the one loop that drives them: :func:`drive`.

``STAGES`` is the run: data, generator, decode, audit, train, evaluate,
export, report (the report comes last, so it can show the export's gate).
``--until``, ``--from``, the "kept"/"done" lines, ``meta.json``'s stage
records and timings, and the run's status all come from this list and this
loop. A new stage is a :class:`~.stages.Stage`
subclass in its own module, placed in ``STAGES`` where its inputs exist.
Each stage returns a typed result (:mod:`.results`): the driver stores it on
the context for the stages after it and writes its facts into the stage's
record in ``meta.json``.

On ``bamnet resume`` each stage is offered to keep what an earlier attempt
finished, in order; once one stage runs, every later recorded stage runs too
(its inputs changed). Decoding is not recorded, so it never breaks the chain.
"""

from __future__ import annotations

from .._util.diskspace import disk_full_error, is_disk_full
from ..config.resolved import Config
from ..errors import DiskFullError, Interrupted, RunError
from ..runs import layout
from ..runs.files import MetricsFile
from ..runs.folder import utc_now
from .audit_stage import AuditStage
from .context import RunContext
from .data_stage import DataStage
from .decode_stage import DecodeStage
from .evaluate_stage import EvaluateStage
from .evaluation import EvaluatorsFailed
from .export_stage import ExportStage
from .generator_stage import GeneratorStage
from .report_stage import ReportStage
from .results import AuditResult, EvaluateResult, ExportResult, ReportResult, RunResult
from .stages import Stage, StageTimer, StoppedAfter
from .train_stage import TrainStage

STAGES: tuple[Stage, ...] = (DataStage(), GeneratorStage(), DecodeStage(), AuditStage(),
                             TrainStage(), EvaluateStage(), ExportStage(), ReportStage())
NAMES = tuple(stage.name for stage in STAGES)
RERUNNABLE = tuple(stage.name for stage in STAGES if stage.rerunnable)
STOPPABLE = tuple(stage.name for stage in STAGES if stage.recorded)


def check_until(config: Config, until: str | None) -> None:
    """Refuse a stage name the run would never stop after."""
    if until is None:
        return
    if until not in STOPPABLE:
        raise RunError(f"--until {until!r}: a run can stop after {', '.join(STOPPABLE)}",
                       hint="for example --until audit")
    if not STAGES[NAMES.index(until)].configured(config):
        raise RunError(f"--until {until}: this config has no {until} stage",
                       hint=f"enable [{until}] in the config, or stop at another stage")


def check_start(start: str | None) -> None:
    """Refuse a ``--from`` stage that a run folder cannot redo."""
    if start is not None and start not in RERUNNABLE:
        raise RunError(f"--from {start!r}: a run folder can redo {', '.join(RERUNNABLE)}",
                       hint="earlier stages change the data or the model: start a new run")


def drive(ctx: RunContext, *, until: str | None = None) -> RunResult:
    """Run (or keep) every stage of ``ctx`` in order and record the outcome in ``meta.json``.

    :param until: stop after this stage (``bamnet resume`` continues).
    :raises EvaluatorsFailed: after the report, when some evaluators failed.
    """
    timer = StageTimer(ctx.progress, ctx.meta.timings_s if ctx.resume else None)
    keeping = ctx.resume
    redo_from = NAMES.index(ctx.start) if ctx.start is not None else len(STAGES)
    try:
        for index, stage in enumerate(STAGES):
            if stage.enabled(ctx):
                keeping = _advance(ctx, stage, timer, keep=keeping and index < redo_from)
            if stage.name == until:
                raise StoppedAfter(stage.name)
        _raise_for_evaluators(ctx)
        ctx.update_meta(status="complete")
        return _result(ctx)
    except StoppedAfter as stop:
        ctx.update_meta(status="stopped", stopped_after=str(stop))
        return _result(ctx)
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM as the CLI delivers it
        ctx.update_meta(status="interrupted", error=None)
        raise interrupted(ctx) from exc
    except BaseException as exc:
        if isinstance(exc, DiskFullError):  # a free-space check refused a write before it began
            exc.hint = f"free space on that disk, then continue with: bamnet resume {ctx.run.path}"
        if is_disk_full(exc):
            full = disk_full_error(exc, ctx.run.path, f"bamnet resume {ctx.run.path}")
            ctx.update_meta(status="failed", error=full.message)
            raise full from exc
        ctx.update_meta(status=status_of(exc), error=str(exc))
        raise
    finally:
        ctx.update_meta(finished_at=utc_now(), timings_s=timer.timings)
        ctx.save_meta()


def interrupted(ctx: RunContext) -> Interrupted:
    """What an interrupted run keeps, and the command that continues it."""
    done = [name for name in NAMES if ctx.finished(name)]
    kept = f"run folder {ctx.run.path} keeps " + (
        f"the finished stages ({', '.join(done)})" if done else "its config")
    if ctx.run.file(layout.CHECKPOINT).is_dir() and "train" not in done:
        kept += " and the last completed training epoch"
    return Interrupted(kept, f"bamnet resume {ctx.run.path}")


def _advance(ctx: RunContext, stage: Stage, timer: StageTimer, *, keep: bool) -> bool:
    """Keep ``stage`` (when allowed and possible) or run and record it.

    :returns: whether later stages may still be kept.
    """
    kept = stage.keep(ctx) if keep else None
    if kept is not None:
        ctx.results.add(kept)
        timer.kept(stage.name)
        return True
    spent = ctx.plan.seconds if stage.name == "data" and ctx.plan else 0.0
    with timer.stage(stage.name, spent=spent) as told:
        result = stage.run(ctx)
        told["note"] = result.done_note()
    ctx.results.add(result)
    if stage.recorded:
        ctx.record(stage.name, result)
    return keep and not stage.recorded  # a stage that ran changed what later ones read


def status_of(exc: BaseException) -> str:
    """The ``meta.json`` status of a run that ended with ``exc``."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return "evaluators-failed" if isinstance(exc, EvaluatorsFailed) else "failed"


def _raise_for_evaluators(ctx: RunContext) -> None:
    evaluated = ctx.results.get(EvaluateResult)
    errors = evaluated.evaluator_errors if evaluated is not None else []
    if errors:
        raise EvaluatorsFailed(
            f"{len(errors)} evaluation(s) failed, e.g. {errors[0].error}",
            hint=f"the other results are in {ctx.run.file(layout.METRICS)}; fix or drop the "
                 "evaluator in [evaluate] evaluators")


def _result(ctx: RunContext) -> RunResult:
    """The run's metrics, its warnings (the audit's, then evaluation's) and its files."""
    audit, evaluated = ctx.results.get(AuditResult), ctx.results.get(EvaluateResult)
    warnings = [*(audit.warnings if audit is not None else []),
                *(evaluated.warnings if evaluated is not None else [])]
    files = {}
    for kind in (ReportResult, ExportResult):
        done = ctx.results.get(kind)
        if done is not None:
            files.update(done.files)
    reported = ctx.results.get(ReportResult)
    return RunResult(run_dir=ctx.run.path,
                     metrics=evaluated.metrics if evaluated is not None else MetricsFile(),
                     warnings=warnings, files=files,
                     verdict=reported.verdict if reported is not None else None,
                     report_settings=ctx.config.report)
