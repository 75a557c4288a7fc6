"""``bamnet evaluate RUN_DIR --data PATH|PRESET``: a trained model on another dataset.

External validation: the other dataset is first compared with the run's own
train, validation and test images (same bytes; a copy re-saved, resized,
padded, cropped, flipped or with its brightness changed; patient id within a
source; :mod:`bamnet_core.data.overlap`). Images that are the run's images, and
images of the run's patients, are excluded and counted apart; the rest, and
only the rest, is one split,
``external``, scored with the run's own preprocessing, evaluators and the
operating threshold its validation split chose (never one re-chosen on the
evaluated data). Nothing left is an error. Results land in
``RUN_DIR/external/<name>/`` (``metrics.json``, ``predictions.csv``, figures)
and the run's report gains an external-validation section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..config.components import instantiate
from ..config.load import load_config, resolve_config_path
from ..data.fingerprints import fingerprint_files
from ..data.loading import load_samples
from ..data.lung_fields import run_lung_source
from ..data.overlap import Overlap, find_overlap
from ..data.sources import (
    collect_configured,
    forced_options,
    open_detected,
    read_samples,
)
from ..errors import ConfigError, DataError, RunError
from ..imaging.preprocess import PreprocessSpec
from ..imaging.properties import LungSource
from ..plugins.manager import PluginHost
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import MetricsFile
from ..runs.integrity import refuse_changed, refuse_other_key
from ..runs.integrity_file import EXTERNAL
from . import stage_records
from .evaluate_stage import evaluate_model
from .occlusion_fill import recorded_fill
from .operating_point import recorded
from .report_stage import write_report_safely
from .run_validation import validation_predictions

EVALUATE_READS = (layout.CONFIG, layout.PREPROCESS, layout.MODEL, layout.SPLIT_JSON,
                  layout.PREDICTIONS, layout.METRICS)
"""The run files ``bamnet evaluate`` reads, checked against the run's record first."""


@dataclass
class ExternalResult:
    """Where an external evaluation wrote its results, and the metrics."""

    folder: Path
    metrics: MetricsFile
    report: dict[str, Any]


def _samples(data: str, source: str | None, host: PluginHost, classes: list[str]
             ) -> tuple[list[Any], str]:
    """The samples of ``data`` (a path, or a preset's ``[data]``) and a description."""
    path = Path(data).expanduser()
    registry = host.registry
    if not path.exists():
        try:
            resolve_config_path(data, registry)
        except ConfigError:  # not a preset either: say what was expected
            raise DataError(f"{data}: no such file, folder or preset",
                            hint="pass a dataset folder, a manifest CSV or a preset name "
                                 "(`bamnet presets list`)") from None
        preset = load_config(data, registry)
        samples, _ = collect_configured(preset.components, classes)
        return samples, f"preset {data}"
    if source:
        reg = registry.get("dataset_source", source)
        reader = instantiate(reg, forced_options(reg, path), where="--source", validate=True)
        samples = read_samples(reg, reader)
    else:
        reg, _, _, samples = open_detected(path, registry)
    unknown = sorted({s.label for s in samples} - set(classes))
    if unknown:
        raise DataError(f"{path}: labels {unknown} are not classes of the model {classes}",
                        hint="evaluate data labelled with the model's classes")
    return samples, f"{reg.name} {path.resolve()}"  # one spelling, however it was typed


def evaluate_external(run_dir: str | Path, host: PluginHost, *, data: str,
                      source: str | None = None, name: str | None = None,
                      replace: bool = False,
                      progress: ProgressCallback = silent) -> ExternalResult:
    """Evaluate the run's ``model.keras`` on ``data`` and rebuild the run's report.

    :param replace: let these results take the place of an earlier evaluation of other data
        under the same name (without it, that is refused: nothing is replaced unasked).
    :raises RunError: not a finished run folder, or ``external/NAME`` holds another
        dataset's results; :raises DataError: unreadable data.
    """
    run = rf.RunFolder(Path(run_dir).expanduser())
    if not run.file(layout.CONFIG).is_file() or not run.file(layout.MODEL).is_file():
        raise RunError(f"{run.path} is not a trained run folder (no {layout.CONFIG} and "
                       f"{layout.MODEL})", hint="pass a folder that `bamnet run` finished")
    record = run.read_record()
    notice = refuse_changed(run, EVALUATE_READS, record=record)
    if notice:
        progress(ProgressEvent("notice", 0, None, notice))
    refuse_other_key(run, record, why="new images of the run's own patients would be named "
                                      "by other pseudonyms and taken for external ones")
    config = load_config(str(run.file(layout.CONFIG)), host.registry)
    classes = config.data.classes
    samples, origin = _samples(data, source, host, classes)
    if not samples:
        raise DataError(f"{data}: no images", hint="check the path")
    overlap = check_overlap(run, samples, data, progress, lungs=run_lung_source(config))
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", name or Path(data).stem or data).strip("-")
    sub = f"{layout.EXTERNAL}/{label}"
    earlier = _earlier_origin(run, sub)
    if earlier is not None and earlier != origin and not replace:
        raise RunError(f"{run.file(sub)} already holds the evaluation of {earlier}",
                       hint=f"give these results another name (--name), or replace those "
                            f"with --name {label} --replace")
    spec = PreprocessSpec.from_json(run.file(layout.PREPROCESS).read_text(encoding="utf-8"))
    loaded = load_samples(overlap.kept, spec, progress=progress, stage="decode external")
    if not len(loaded.samples):
        raise DataError(f"{data}: none of its {len(overlap.kept)} images the run did not "
                        "see could be decoded", hint="`bamnet data inspect` it")
    from ..train.backend import import_keras
    from ..train.checkpoint import check_keras_file

    check_keras_file(run.file(layout.MODEL))  # damage named, not Keras's "File not found"
    model = import_keras().models.load_model(run.file(layout.MODEL), compile=False)
    fill = recorded_fill(run)  # the run's own, never one from the external images
    metrics, _ = evaluate_model(config, run, spec, model, {"external": loaded}, from_cache=False,
                                progress=progress, figures=sub,
                                predictions_file=f"{sub}/{layout.PREDICTIONS}",
                                validation=validation_predictions(run, config),
                                fill=fill.value if fill else None,
                                decided=recorded(run.read_model(layout.METRICS, MetricsFile)
                                                 if run.file(layout.METRICS).is_file()
                                                 else None),
                                stage=EXTERNAL)
    metrics = metrics.with_entries({"occlusion_fill": fill,
        "data": {"origin": origin, "images": len(samples), "decode_failures": len(loaded.errors)},
        "overlap": overlap.to_dict()})
    run.write_model(f"{sub}/{layout.METRICS}", metrics)
    run.record(EXTERNAL, [f"{sub}/{layout.METRICS}"])
    return ExternalResult(folder=run.file(sub), metrics=metrics,
                          report=write_report_safely(run.path, progress))


def _earlier_origin(run: rf.RunFolder, sub: str) -> str | None:
    """The data an earlier evaluation in ``sub`` was made from; None when there is none, and
    ``"data it did not record"`` for one whose results cannot be read."""
    if not run.file(sub).exists():
        return None
    try:
        found = run.read_model(f"{sub}/{layout.METRICS}", MetricsFile)
    except (RunError, OSError):
        return "data it did not record"
    return found.data.origin if found.data else "data it did not record"


def check_overlap(run: rf.RunFolder, samples: list[Any], data: str,
                  progress: ProgressCallback, *, lungs: LungSource | None = None) -> Overlap:
    """The images of ``samples`` the run saw, and the rest; an error when nothing is left.

    :param lungs: the run's lung-field source: its images were fingerprinted (and
        described) with it, so the cache serves them without a decode.

    :raises RunError: the run's ``split.json`` is missing or damaged (overlap unknowable).
    :raises DataError: every image was seen by the run.
    """
    found = stage_records.load_split(run)
    if found is None:
        raise RunError(f"{run.file(layout.SPLIT_JSON)} is missing or damaged: cannot check "
                       "which of these images the run already saw",
                       hint="evaluate with a run folder that `bamnet run` wrote whole")
    split = found[0]
    theirs = [s.path for part in split.assignment.values() for s in part if not s.synthetic]
    prints, _ = fingerprint_files(sorted({*theirs, *(s.path for s in samples)}),
                                  lungs=lungs, progress=progress)
    overlap = find_overlap(split.assignment, samples, prints)
    if not overlap.kept:
        raise DataError(f"{data}: all {len(samples)} images are the run's images or of its "
                        f"patients ({overlap.sentence()}); nothing external is left to "
                        "evaluate",
                        hint="evaluate data from patients and images the run never used")
    return overlap
