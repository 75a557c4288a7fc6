"""``bamnet export RUN_DIR --onnx``: the trained Keras model as a self-describing ONNX file.

The model is converted with tf2onnx (batch dimension named ``batch``), the
run's classes, decision rule, preprocessing and validation metrics go into
its metadata, and the file must pass the parity gate (:mod:`bamnet_core.export.parity`)
before it appears: every output file is written to a temp name and renamed
only after every check passed, so a refused export leaves nothing behind.
``export-report.json`` records what was checked and measured.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .._util.cachedir import file_sha256
from .._util.logs import quieted
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..contract.sample import Sample
from ..errors import DataError, RunError
from ..imaging.preprocess import PreprocessSpec
from ..runs import folder as rf
from ..runs import layout
from ..runs.files import ExportReportFile, MetricsFile
from ..runs.integrity import refuse_changed
from ..runs.split_table import read_split_rows
from ..score.metadata import ModelInfo, set_metadata
from ..train.checkpoint import check_keras_file
from . import speed
from .gates import GateLimits, GateResult, fp32_gate
from .parity import check_parity
from .speed import SpeedBudget
from .validation import calibration_batches, keras_pass
from .variants import BATCH, VariantJob, make_variant, measure, record_speeds, time_models
from .workdir import export_workdir, publish, release_memory, write_model

DEFAULT_OPSET = 17


@dataclass(frozen=True)
class CarriedFacts:
    """What the model carries about its run, already redacted (no path, no patient id),
    like a shareable report: the model travels.

    :param metrics: the run's validation metrics (``metrics.json`` ``splits.val``).
    :param model_card: the model card's summary (intended use, protocol, headline metrics,
        known confounds).
    :param verdict: the run's verdict (``reading``, ``sentence`` and its text ``lines``), so
        whoever reads a result (a DICOM SR) sees whether the headline can be trusted.
    :param threshold_source: where the model's decision threshold was chosen, in words.
    """

    metrics: dict[str, Any]
    model_card: dict[str, Any]
    verdict: dict[str, Any] = field(default_factory=dict)
    threshold_source: str = ""


@dataclass
class ExportResult:
    """Where an export wrote its files, and its report."""

    model_path: Path
    report_path: Path
    report: dict[str, Any]
    variants: dict[str, Path] = field(default_factory=dict)
    gates: dict[str, GateResult] = field(default_factory=dict)

    @property
    def refused(self) -> list[str]:
        """Variants that failed their gate (written only with ``allow_degraded``)."""
        return [name for name, gate in self.gates.items() if not gate.passed]


def split_rows(run: rf.RunFolder, split: str, limit: int) -> list[Sample]:
    """Up to ``limit`` samples of ``split`` from ``splits.csv``, spread over the list."""
    rows = [r for r in read_split_rows(run) if r["split"] == split]
    if len(rows) > limit:  # evenly spaced, so every class is likely represented
        rows = [rows[int(i * len(rows) / limit)] for i in range(limit)]
    return [Sample(path=run.resolve(r["path"]), label=r["label"],
                   patient_id=r.get("patient_id") or r["path"],
                   source=r.get("source") or "") for r in rows]


def keras_to_onnx(model: Any, spec: PreprocessSpec, opset: int) -> Any:
    """Convert a Keras 3 model with tf2onnx; the batch dimension is named ``batch``."""
    import tensorflow as tf
    import tf2onnx

    # Keras 3 models have no save spec; tf2onnx needs an explicit input signature.
    signature = (tf.TensorSpec((None, *spec.input_shape), tf.float32, name="image"),)
    with quieted("tf2onnx"):
        proto, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=opset,
                                              optimizers=_optimizers())
    for value in [*proto.graph.input, *proto.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    proto.doc_string = "bamnet classifier; preprocessing and decision rule in metadata_props"
    return proto


def _optimizers() -> dict[str, Any]:
    """The tf2onnx graph optimizers bamnet runs after conversion.

    With all twelve of tf2onnx's optimizers, converting VGG16 at 224x224 peaked at 4.1 GB
    (measured; each pass adds to the peak). These three remove the NHWC/NCHW transposes
    tf2onnx puts around every convolution (VGG16: 38 transposes down to 1) and the
    identities and back-to-back pairs that leaves, at a 1.9 GB peak; onnxruntime folds
    constants and fuses the rest when it loads the model.
    """
    from tf2onnx.optimizer.back_to_back_optimizer import BackToBackOptimizer
    from tf2onnx.optimizer.identity_optimizer import IdentityOptimizer
    from tf2onnx.optimizer.transpose_optimizer import TransposeOptimizer

    return {"optimize_transpose": TransposeOptimizer, "remove_identity": IdentityOptimizer,
            "remove_back_to_back": BackToBackOptimizer}


def _load_keras(run: rf.RunFolder) -> Any:
    from ..train.backend import import_keras

    keras = import_keras()
    if keras.backend.backend() != "tensorflow":
        raise RunError("ONNX export converts through TensorFlow",
                       hint="run `bamnet export` with KERAS_BACKEND=tensorflow (the default)")
    path = run.file(layout.MODEL)
    if not path.exists():
        raise RunError(f"{path} is missing", hint="export needs a run that finished training")
    check_keras_file(path)  # not a .keras archive: named as such, not Keras's "File not found"
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise RunError(f"{path} was refused by safe loading: it holds code (a Lambda "
                           "layer), which could run anything when loaded",
                           hint="rebuild the model without Lambda layers (use a named layer "
                                "class); bamnet never loads model code unsafely") from None
        raise RunError(f"{path} cannot be loaded: {first}",
                       hint="is it a model.keras written by `bamnet run`?") from None


class _Steps:
    """Announces the next of ``total`` export steps and times each (``timings_s``)."""

    def __init__(self, progress: ProgressCallback, total: int) -> None:
        self.progress, self.total = progress, total
        self.done = 0
        self.timings_s: dict[str, float] = {}
        self.current: tuple[str, float] | None = None

    def __call__(self, description: str) -> None:
        """Close the running step's clock and start ``description``'s."""
        now = time.perf_counter()
        if self.current is not None:
            name, start = self.current
            self.timings_s[name] = round(self.timings_s.get(name, 0.0) + now - start, 3)
        self.current = (description, now)
        self.progress(ProgressEvent("export", self.done, self.total, description))
        self.done += 1


def exportable_run(run_dir: str | Path | rf.RunFolder) -> rf.RunFolder:
    """The run folder, when it holds what an export starts from.

    :raises RunError: no such folder; a folder that is not a run (no ``config.toml``);
        or a run that stopped before it had a trained model (no ``preprocess.json``
        or ``model.keras``), with the command that finishes it.
    """
    run = run_dir if isinstance(run_dir, rf.RunFolder) else rf.RunFolder(run_dir)
    if not run.path.is_dir():
        raise RunError(f"run folder {run.path} not found",
                       hint="pass a folder made by `bamnet run`, e.g. runs/<stamp>-<name>")
    if not run.file(layout.CONFIG).is_file():
        raise RunError(f"{run.path} is not a bamnet run folder (no {layout.CONFIG})",
                       hint="pass a folder that `bamnet run` created, e.g. "
                            "runs/<stamp>-<name>")
    for needed in (layout.PREPROCESS, layout.MODEL):
        if not run.file(needed).is_file():
            raise RunError(f"run {run.path} has no trained model to export (no {needed})",
                           hint=f"finish the run first: bamnet resume {run.path}")
    return run


def _carried_props(run: rf.RunFolder, carried: CarriedFacts, *, input_name: str
                   ) -> dict[str, Any]:
    """What every exported model's metadata says besides its decision rule: bamnet's
    version, the run's name and config hash, its input's name, and ``carried``."""
    config_path = run.file(layout.CONFIG)
    return {"version": __version__, "run": run.path.name, "input": input_name,
            "config_sha256": file_sha256(config_path) if config_path.exists() else "",
            "metrics": carried.metrics, "model_card": carried.model_card,
            **({"verdict": carried.verdict} if carried.verdict else {}),
            **({"threshold_source": carried.threshold_source}
               if carried.threshold_source else {})}


EXPORT_READS = (layout.CONFIG, layout.PREPROCESS, layout.METRICS, layout.MODEL, layout.SPLITS_CSV)
"""The run files an export reads, checked against the run's record first."""


def export_onnx(run_dir: str | Path | rf.RunFolder, *, carried: CarriedFacts,
                output: str | Path | None = None,
                opset: int = DEFAULT_OPSET, int8: bool = False, fp16: bool = False,
                parity_images: int = 256, calibration_images: int = 64,
                limits: GateLimits | None = None, allow_degraded: bool = False,
                speed_budget: SpeedBudget | None = None,
                progress: ProgressCallback = silent) -> ExportResult:
    """Export a run's model to ONNX, gate it, and write it with ``export-report.json``.

    Everything is built and checked in a private work folder; a model reaches
    its final name only after it passed its gate, so an interrupted or refused
    export leaves no partial file.

    :param carried: what the model's metadata says about its run, redacted
        (:func:`bamnet_core.experiment.export_stage.carried_facts` makes it).
    :param output: the fp32 model path (default ``RUN_DIR/model.onnx``); the
        variants go beside it as ``<stem>.int8.onnx`` and ``<stem>.fp16.onnx``.
    :param limits: the gates' limits (default :class:`GateLimits`).
    :param allow_degraded: write a variant that failed its gate anyway (its
        gate in the report says so); otherwise it is not written, and an older
        file of that name is removed.
    :param speed_budget: how much inference each model is timed on (default
        :data:`~bamnet_core.export.speed.DEFAULT_BUDGET`: at least 256 images and
        10 s each, in 5 interleaved rounds).
    :raises ParityError: if fp32 onnxruntime disagrees with Keras; nothing is written.
    """
    from ..score.scorer import Scorer

    limits = limits or GateLimits()
    run = exportable_run(run_dir)
    notice = refuse_changed(run, EXPORT_READS)
    if notice:
        progress(ProgressEvent("notice", 0, None, notice))
    spec = PreprocessSpec.from_json(run.file(layout.PREPROCESS).read_text(encoding="utf-8"))
    metrics = run.read_model(layout.METRICS, MetricsFile)
    output = Path(output) if output else run.file(layout.ONNX)
    beside = rf.RunFolder(output.parent)  # the run folder, unless -o put the models elsewhere
    report_path = beside.file(layout.EXPORT_REPORT)
    if metrics.positive is None or metrics.threshold is None:
        raise RunError(f"{run.file(layout.METRICS)} names no positive class or threshold",
                       hint=f"finish the run first: bamnet resume {run.path}")
    info = ModelInfo(classes=list(metrics.classes), positive=metrics.positive,
                     threshold=metrics.threshold, spec=spec)
    wanted = [name for name, on in (("int8", int8), ("fp16", fp16)) if on]
    step = _Steps(progress, 5 + len(wanted))  # the last call, "done", completes it
    rows = split_rows(run, "val", parity_images)
    if not rows:  # said before the conversion, which takes a while
        raise DataError(f"{run.file(layout.SPLITS_CSV)} lists no validation image",
                        hint="the parity gate needs validation images: export a run trained "
                             "with a validation split ([split] val)")
    gates: dict[str, GateResult] = {}
    with export_workdir() as work:
        # converted first, while the process holds only the model, so tf2onnx's peak does
        # not sit on the Keras pass's leftovers (VGG16 converted alone: 2.1 GiB, not 2.6)
        step("converting with tf2onnx")
        model = _load_keras(run)
        proto = keras_to_onnx(model, spec, opset)
        common = _carried_props(run, carried, input_name=proto.graph.input[0].name)
        set_metadata(proto, info.to_props(**common))
        staged = {"fp32": (work / layout.ONNX, output)}
        write_model(staged["fp32"][0], proto)
        del proto  # written: the gates and variants read it from its file
        release_memory()
        step("Keras on validation images, a batch at a time")
        val = keras_pass(model, rows, spec, inference_batch=BATCH, probe_size=BATCH,
                         progress=progress)
        del model
        release_memory()
        if not val.paths:
            raise DataError(f"no validation image listed in {run.file(layout.SPLITS_CSV)} "
                            "could be decoded",
                            hint="the parity gate needs the run's images where splits.csv says")
        paths, labels = val.paths, val.labels
        report: dict[str, Any] = {
            "run": beside.record_path(run.path), "bamnet_version": __version__,
            "opset": opset, "created_at": rf.utc_now(), "validation_images": len(paths),
            "validation_batches": val.batches, "limits": asdict(limits),
            "undecodable_validation_images": [str(e) for e in val.errors][:20], "models": {}}
        step("parity gate: fp32 onnxruntime vs Keras")
        fp32 = Scorer(staged["fp32"][0], provider="cpu")
        parity = check_parity(val.keras_probs, fp32, paths, tolerance=limits.fp32_tolerance,
                              batch_size=BATCH)
        gates["fp32"] = fp32_gate(parity, limits)
        fp32_measured = measure(output, parity, fp32, labels)
        del fp32
        release_memory()
        report["models"]["fp32"] = fp32_measured.entry
        job = VariantJob(staged["fp32"][0], info, common, common["input"],
                         val.keras_probs, paths, labels, fp32_measured, limits,
                         calibration_batches(split_rows(run, "train", calibration_images), spec),
                         progress)
        candidates = [output.with_name(f"{output.stem}.{name}{output.suffix}")
                      for name in wanted]
        for name, target in zip(wanted, candidates, strict=True):
            step(f"{name} variant and its gate")
            measured, gates[name] = make_variant(job, name, work / layout.onnx_variant(name))
            measured.entry["path"] = str(target)
            report["models"][name] = measured.entry
            if gates[name].passed or allow_degraded:
                staged[name] = (work / layout.onnx_variant(name), target)
            else:
                target.unlink(missing_ok=True)  # an older export's file would mislead
        step("timing every model, in interleaved rounds")
        speeds = time_models({n: work / layout.onnx_variant(n) if n != "fp32"
                              else staged["fp32"][0] for n in report["models"]}, val.probe,
                             speed_budget or speed.DEFAULT_BUDGET)
        passed = {n: g.passed for n, g in gates.items()}
        report["fastest"] = record_speeds(report["models"], speeds, passed)
        step("writing the checked files")
        for name, (source, target) in staged.items():
            publish(source, target)
            gates[name].written = True
    for name, gate in gates.items():
        report["models"][name]["gate"] = gate.to_dict()
    step("done")
    report["timings_s"] = step.timings_s  # wall seconds of each step
    for entry in report["models"].values():  # relative to the report's folder, so it can move
        entry["path"] = beside.record_path(entry["path"])
    beside.write_model(layout.EXPORT_REPORT, ExportReportFile.model_validate(report))  # last
    if beside.path == run.path:
        run.record("export", [layout.EXPORT_REPORT, *(run.record_path(target) for target in
                                                      (output, *candidates))])
    return ExportResult(model_path=output, report_path=report_path, report=report,
                        variants={n: t for n, (_, t) in staged.items() if n != "fp32"},
                        gates=gates)
