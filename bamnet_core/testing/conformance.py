"""Conformance checks: does a component keep the contract of its kind? One function per kind.

- :func:`check_source` (a dataset source),
- :func:`check_generator` (a synthetic-image generator),
- :func:`check_backbone` (a classifier builder),
- :func:`check_evaluator` (plain, in-context, or synthetic-image assessing),

each calling the component the way a run does, on tiny inputs (16x16 to 32x32 images,
two classes, a few samples), so a plugin's test suite can call them on every component it
registers in a second or two. The lung-field estimator's check joins them when that kind
exists. A broken contract raises :class:`ContractError`, an ``AssertionError`` whose
message names the component, what it did, and what its author must change::

    from bamnet_core.testing import check_backbone, check_evaluator

    def test_my_backbone_keeps_the_contract():
        check_backbone(MyNet(filters=4))

    def test_my_evaluator_keeps_the_contract(tmp_path):
        check_evaluator(MyEvaluator(), tmp_path)

What each kind must do is in :mod:`bamnet_core.contract.protocols`, the optional extras in
:mod:`bamnet_core.contract.capabilities`, and what an evaluator may return in
:mod:`bamnet_core.contract.evidence`; each check also checks the extras a component offers.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
from pydantic import ValidationError

from ..contract import capabilities as caps
from ..contract.evaluation import EvaluationContext, SplitPredictions
from ..contract.evidence import Findings
from ..contract.protocols import (
    Backbone,
    DatasetSource,
    Generator,
    SyntheticAssessor,
    evaluator_variant,
)
from ..contract.sample import Sample
from ..errors import ConfigError, DataError
from ..imaging.preprocess import PreprocessSpec

if TYPE_CHECKING:
    import keras

CLASSES = ("normal", "covid")
SAMPLE_FIELDS = ("path", "label", "patient_id", "source")


class ContractError(AssertionError):
    """A component breaks the contract of its kind; the message says what to fix."""


def _name(component: object) -> str:
    kind = component if isinstance(component, type) else type(component)
    return f"{kind.__module__}.{kind.__qualname__}"


def _fail(component: object, what: str, fix: str) -> NoReturn:
    raise ContractError(f"{_name(component)}: {what}. Fix: {fix}.")


def _require(ok: object, component: object, what: str, fix: str) -> None:
    if not ok:
        _fail(component, what, fix)


def _call(component: object, call: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; an exception becomes a :class:`ContractError` naming ``call``."""
    try:
        return fn(*args, **kwargs)
    except ContractError:
        raise
    except (ConfigError, DataError) as exc:
        _fail(component, f"{call} raised {type(exc).__name__}: {exc.message}"
              + (f" ({exc.hint})" if exc.hint else ""),
              "give it options and data it accepts (the check needs a working component)")
    except Exception as exc:
        _fail(component, f"{call} raised {type(exc).__name__}: {exc}",
              "raise ConfigError for a bad option and DataError for bad data, each with a "
              "hint; anything else is reported to users as a bug in the plugin")


@contextmanager
def _folder(tmp_path: str | Path | None) -> Iterator[Path]:
    if tmp_path is not None:
        Path(tmp_path).mkdir(parents=True, exist_ok=True)
        yield Path(tmp_path)
        return
    with tempfile.TemporaryDirectory(prefix="bamnet-check-") as folder:
        yield Path(folder)


# --- dataset sources --------------------------------------------------------------------


def check_source(source: object, *, check_files: bool = True) -> list[Sample]:
    """Check a dataset source instance against :class:`~bamnet_core.contract.DatasetSource`.

    ``samples()`` must return :class:`~bamnet_core.contract.Sample` records with a path,
    label, patient id and source each, every image once, in the same order on every call;
    a source class that offers ``detect`` must turn down an empty folder; ``notes``,
    ``population_facts()`` and ``missing_files()``, where offered, must have their shapes.

    :param source: the source, built with options that point at readable test data.
    :param check_files: also check that every path is an existing file.
    :returns: the samples, for further checks of your own.
    :raises ContractError: naming what to fix.
    """
    _require(isinstance(source, DatasetSource), source, "has no samples() method",
             "define samples() returning the dataset's Sample records")
    first = _call(source, "samples()", lambda: list(source.samples()))  # type: ignore[attr-defined]
    _require(first, source, "samples() returned no samples",
             "return the dataset's samples, or raise DataError with a hint when there are none")
    for i, sample in enumerate(first):
        _require(isinstance(sample, Sample), source,
                 f"samples()[{i}] is a {type(sample).__name__}, not a Sample",
                 "return bamnet_core.contract.Sample records")
        for key in SAMPLE_FIELDS:
            value = getattr(sample, key)
            _require(isinstance(value, str) and value, source,
                     f"samples()[{i}].{key} is {value!r}",
                     f"give every Sample a non-empty string {key}"
                     + (" (the file path when the data names no patient)"
                        if key == "patient_id" else ""))
        if check_files:
            _require(Path(sample.path).is_file(), source,
                     f"samples()[{i}].path {sample.path} is not a file",
                     "list only image files that exist")
    paths = [s.path for s in first]
    twice = sorted({p for p in paths if paths.count(p) > 1})
    _require(not twice, source, f"samples() lists {twice[:3]} more than once",
             "list each image once")
    again = _call(source, "samples() (a second time)",
                  lambda: list(source.samples()))  # type: ignore[attr-defined]
    _require(again == first, source, "samples() returned other samples, or another order, "
             "when called again", "return every sample in a stable order (sort what you list)")
    _check_source_extras(source)
    _check_missing_files(source)
    return first


def _check_source_extras(source: object) -> None:
    kind = type(source)
    if isinstance(kind, caps.Detectable):
        _require(isinstance(kind.detect_priority, int), kind,
                 f"detect_priority is {kind.detect_priority!r}", "make it an int")
        with tempfile.TemporaryDirectory(prefix="bamnet-check-") as empty:
            try:
                claimed = kind.detect(Path(empty))
            except Exception as exc:
                _fail(kind, f"detect(an empty folder) raised {type(exc).__name__}: {exc}",
                      "return None, rather than raise, for a path that does not hold your data")
        _require(claimed is None, kind, f"detect() claimed an empty folder ({claimed!r})",
                 "return None for a path that does not hold your data")
    if isinstance(source, caps.HasNotes):
        _require(isinstance(source.notes, list) and all(isinstance(n, str)
                                                        for n in source.notes),
                 source, f"notes is {source.notes!r}", "make notes a list of strings")
    if isinstance(source, caps.StatesPopulation):
        facts = _call(source, "population_facts()", source.population_facts)
        _require(isinstance(facts, Mapping), source,
                 f"population_facts() returned a {type(facts).__name__}",
                 "return {source name: {'age_group': ..., 'fact': ...}}")
        for name, fact in facts.items():
            _require(isinstance(fact, Mapping)
                     and fact.get("age_group") in ("pediatric", "adult")
                     and isinstance(fact.get("fact"), str) and fact.get("fact"), source,
                     f"population_facts()[{name!r}] is {fact!r}",
                     "give 'age_group' ('pediatric' or 'adult') and 'fact' (one sentence)")


def _check_missing_files(component: object) -> None:
    if not isinstance(component, caps.NeedsFiles):
        return
    missing = _call(component, "missing_files()", component.missing_files)
    _require(isinstance(missing, list) and all(
        isinstance(m, tuple) and len(m) == 2 and all(isinstance(x, str) for x in m)
        for m in missing), component, f"missing_files() returned {missing!r}",
        "return a list of (what is missing, how to get it) string pairs; [] when none")


# --- generators -------------------------------------------------------------------------


def write_images(folder: Path, *, label: str = CLASSES[1], count: int = 8, size: int = 16,
                 seed: int = 0) -> list[Sample]:
    """``count`` small grayscale PNG files of one class in ``folder``, as real samples."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        image = rng.normal(90, 20, (size, size)).clip(0, 255).astype(np.uint8)
        path = folder / f"{label}-{i:03d}.png"
        cv2.imwrite(str(path), image)
        out.append(Sample(path=str(path), label=label, patient_id=f"p{i}", source="check"))
    return out


def check_generator(generator: object, tmp_path: str | Path, *,
                    samples: Sequence[Sample] | None = None, label: str = CLASSES[1],
                    count: int = 2) -> list[Sample]:
    """Check a generator instance against :class:`~bamnet_core.contract.Generator`.

    ``fit`` learns from a few tiny real images (or ``samples``) in ``tmp_path/work``;
    ``generate`` must write ``count`` readable images into ``tmp_path/out`` and return them
    as samples marked ``synthetic=True`` with the label asked for. Progress, where sent,
    must be :class:`~bamnet_core.contract.ProgressEvent` records. Configure the
    generator small (one epoch, 16-pixel images) so the check stays fast.

    :returns: the generated samples.
    :raises ContractError: naming what to fix.
    """
    from ..contract import ProgressEvent
    from ..imaging.decode import decode_image

    _require(isinstance(generator, Generator), generator, "lacks fit() or generate()",
             "define fit(samples, *, workdir, seed, progress) and "
             "generate(count, *, label, outdir, seed, progress)")
    folder = Path(tmp_path)
    real = list(samples) if samples is not None else write_images(folder / "real", label=label)
    events: list[object] = []
    workdir, outdir = folder / "work", folder / "out"
    workdir.mkdir(parents=True, exist_ok=True)
    outdir.mkdir(parents=True, exist_ok=True)
    _call(generator, "fit()", generator.fit, real, workdir=workdir,  # type: ignore[attr-defined]
          seed=0, progress=events.append)
    made = _call(generator, "generate()", generator.generate,  # type: ignore[attr-defined]
                 count, label=label, outdir=outdir, seed=0, progress=events.append)
    odd = [e for e in events if not isinstance(e, ProgressEvent)]
    _require(not odd, generator, f"sent progress a {type(odd[0]).__name__}" if odd else "",
             "call progress with ProgressEvent('generator', done, total, ...) records")
    _require(isinstance(made, list) and len(made) == count, generator,
             f"generate({count}) returned {type(made).__name__} of "
             f"{len(made) if hasattr(made, '__len__') else '?'} items",
             "return a list with one Sample per image written")
    for i, sample in enumerate(made):
        _require(isinstance(sample, Sample), generator,
                 f"generate()[{i}] is a {type(sample).__name__}", "return Sample records")
        _require(sample.synthetic and sample.label == label, generator,
                 f"generate()[{i}] has synthetic={sample.synthetic}, label={sample.label!r}",
                 f"mark each Sample synthetic=True with the label asked for ({label!r})")
        path = Path(sample.path)
        _require(path.is_file() and outdir.resolve() in path.resolve().parents, generator,
                 f"generate()[{i}].path {path} is not a file in outdir {outdir}",
                 "write each image into outdir and return its path")
        _call(generator, f"reading generate()[{i}] ({path.name})", decode_image, path)
    _require(len({s.path for s in made}) == len(made), generator,
             "generate() returned one path twice", "write each image to its own file")
    _check_missing_files(generator)
    return made


# --- backbones --------------------------------------------------------------------------


def _layer_names(model: Any) -> set[str]:
    names = set()
    for layer in model.layers:
        names.add(layer.name)
        if hasattr(layer, "layers"):
            names |= _layer_names(layer)
    return names


def check_backbone(backbone: object, *, input_shape: tuple[int, int, int] = (32, 32, 1),
                   num_classes: int = 2) -> keras.Model:
    """Check a backbone instance against :class:`~bamnet_core.contract.Backbone`.

    ``build`` must return a Keras model taking ``input_shape`` images to float32
    probabilities over ``num_classes`` classes (rows summing to 1). Where offered: a
    :class:`~bamnet_core.contract.SplitBackbone`'s model must be ``compose`` of its
    ``backbone`` and ``head`` parts; ``gradcam_layer`` and ``finetune_from`` must name
    layers of the model; ``check_preprocess`` may only raise ``ConfigError`` (and when
    it refuses ``input_shape``, pass one it accepts).

    :returns: the built model.
    :raises ContractError: naming what to fix.
    """
    import keras

    _require(isinstance(backbone, Backbone), backbone, "has no build() method",
             "define build(input_shape, num_classes) returning a keras.Model")
    if isinstance(backbone, caps.ChecksPreprocess):
        spec = PreprocessSpec(size=input_shape[0], channels=input_shape[2])  # type: ignore[arg-type]
        try:
            backbone.check_preprocess(spec)
        except ConfigError as exc:
            raise ContractError(f"{_name(backbone)} refuses input_shape {input_shape}: "
                                f"{exc.message}. Fix: call check_backbone with an "
                                "input_shape it accepts.") from None
        except Exception as exc:
            _fail(backbone, f"check_preprocess() raised {type(exc).__name__}: {exc}",
                  "raise ConfigError naming the [preprocess] key to set")
    model = _call(backbone, f"build({input_shape}, {num_classes})",
                  backbone.build, input_shape, num_classes)  # type: ignore[attr-defined]
    _require(isinstance(model, keras.Model), backbone,
             f"build() returned a {type(model).__name__}", "return a keras.Model")
    _require(tuple(model.input_shape[1:]) == tuple(input_shape), backbone,
             f"the model takes inputs of shape {tuple(model.input_shape[1:])}, "
             f"not {tuple(input_shape)}", "build the keras.Input from input_shape")
    x = np.random.default_rng(0).random((2, *input_shape)).astype(np.float32)
    y = keras.ops.convert_to_numpy(model(x, training=False))
    _require(y.shape == (2, num_classes), backbone,
             f"the model's output has shape {y.shape} for 2 images",
             "end with keras.layers.Dense(num_classes, activation='softmax')")
    _require(y.dtype == np.float32, backbone, f"the model outputs {y.dtype}",
             "give the last layer dtype='float32' (mixed precision computes in float16)")
    _require(np.isfinite(y).all() and (y >= 0).all() and np.allclose(y.sum(axis=1), 1.0,
                                                                      atol=1e-4),
             backbone, f"the outputs are not probabilities (row sums {y.sum(axis=1)})",
             "end with a softmax over the classes")
    names = _layer_names(model)
    if isinstance(backbone, caps.SplitBackbone):
        extractor = _call(backbone, "feature_extractor()", backbone.feature_extractor,
                          input_shape)
        head = _call(backbone, "head()", backbone.head, tuple(extractor.output_shape[1:]),
                     num_classes)
        _require(extractor.name == "backbone" and head.name == "head", backbone,
                 f"the parts are named {extractor.name!r} and {head.name!r}",
                 "name the extractor 'backbone' and the head 'head'")
        _require({"backbone", "head"} <= {layer.name for layer in model.layers}, backbone,
                 "build() is not compose(feature_extractor(...), head(...))",
                 "return bamnet_core.contract.compose(extractor, head) from build()")
    if isinstance(backbone, caps.NamesGradCamLayer):
        _require(backbone.gradcam_layer in names, backbone,
                 f"gradcam_layer {backbone.gradcam_layer!r} names no layer of the model",
                 "name the last convolutional layer, as the model names it")
    if isinstance(backbone, caps.FineTunable):
        _require(any(n.startswith(backbone.finetune_from) for n in names), backbone,
                 f"finetune_from {backbone.finetune_from!r} starts no layer name",
                 "give the name prefix of the first layer fine-tuning unfreezes")
    _check_missing_files(backbone)
    return model


# --- evaluators -------------------------------------------------------------------------


def tiny_split(name: str, *, n: int = 16, size: int = 16, seed: int = 0) -> SplitPredictions:
    """A synthetic split of ``n`` images (two per patient, two sources, classes alternating)
    with predictions that are mostly right, for checking evaluators."""
    rng = np.random.default_rng(seed)
    y_true = np.arange(n, dtype=np.int64) % 2
    positive = np.clip(0.3 + 0.4 * y_true + rng.normal(0, 0.15, n), 0.01, 0.99)
    y_prob = np.stack([1 - positive, positive], axis=1).astype(np.float32)
    images = (rng.random((n, size, size, 1)) * 0.5 + 0.3 * y_true[:, None, None, None]
              ).astype(np.float32)
    samples = [Sample(path=f"{name}/{i}.png", label=CLASSES[y], patient_id=f"{name}-p{i // 2}",
                      source=f"site-{i % 4 // 2}") for i, y in enumerate(y_true)]
    return SplitPredictions(name, y_true, y_prob, samples, images)


def _predict(images: np.ndarray) -> np.ndarray:
    positive = np.clip(np.asarray(images, dtype=np.float32).mean(axis=(1, 2, 3)), 0.0, 1.0)
    return np.stack([1 - positive, positive], axis=1).astype(np.float32)


def _model_predict(model: Any) -> Any:
    import keras

    return lambda images: keras.ops.convert_to_numpy(model(images, training=False))


def _features(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    return np.stack([x.mean(1), x.std(1), x.min(1), x.max(1)], axis=1)


def check_evaluator(evaluator: object, tmp_path: str | Path | None = None, *,
                    bootstrap: int = 20, target_sensitivity: float = 0.95,
                    model: Any = None, seed: int = 0) -> Any:
    """Check an evaluator instance against the evaluator contract, on a tiny synthetic split.

    It is called the way the core calls it: ``evaluate_context`` with an
    :class:`~bamnet_core.contract.EvaluationContext` (a test split of 16 images of 8
    patients from 2 sources, a validation split, a predict and a features function, no
    Keras model), else ``evaluate(y_true, y_prob, ...)``; ``assess`` as well when it
    offers that. Each must return a dict of JSON-ready results or a
    :class:`~bamnet_core.contract.Findings` whose evidence lines and headline are valid
    and JSON-ready, and must leave its inputs unchanged.

    :param tmp_path: where figures may go (default: a temporary folder).
    :param bootstrap: patient-bootstrap resamples the context asks for (few, to be fast).
    :param target_sensitivity: the context's ``target_sensitivity``.
    :param model: a Keras model taking ``(16, 16, 1)`` images to two classes, for
        evaluators that need one (Grad-CAM); it then also gives the predictions.
    :returns: what it returned for the split (the ``assess`` result for an evaluator
        that only assesses synthetic images).
    :raises ContractError: naming what to fix.
    """
    variant = evaluator_variant(evaluator)
    assesses = isinstance(evaluator, SyntheticAssessor)
    _require(variant is not None or assesses, evaluator,
             "offers none of evaluate(), evaluate_context() and assess()",
             "define evaluate(y_true, y_prob, *, class_names, positive, threshold) or "
             "evaluate_context(context), returning a dict or a Findings")
    result = None
    with _folder(tmp_path) as folder:
        split, validation = tiny_split("test", seed=seed), tiny_split("val", seed=seed + 1)
        kept = (split.y_true.copy(), split.y_prob.copy(), split.images.copy())  # type: ignore[union-attr]
        if variant == "context":
            context = EvaluationContext(
                split=split, validation=validation, class_names=list(CLASSES),
                positive=CLASSES[1], threshold=0.5, bootstrap=bootstrap,
                target_sensitivity=target_sensitivity, seed=seed,
                figures_dir=folder / "figures", features=_features, model=model,
                predict=_predict if model is None else _model_predict(model))
            result = _call(evaluator, "evaluate_context()",
                           evaluator.evaluate_context, context)  # type: ignore[union-attr]
            _check_result(evaluator, "evaluate_context()", result)
        elif variant == "plain":
            result = _call(evaluator, "evaluate()", evaluator.evaluate,  # type: ignore[union-attr]
                           split.y_true, split.y_prob, class_names=list(CLASSES),
                           positive=CLASSES[1], threshold=0.5)
            _check_result(evaluator, "evaluate()", result)
        changed = [name for name, before, now in zip(
            ("y_true", "y_prob", "images"), kept, (split.y_true, split.y_prob, split.images),
            strict=True) if not np.array_equal(before, now)]
        _require(not changed, evaluator, f"changed {', '.join(changed)} in place",
                 "work on a copy (np.array(x)) instead of the arrays passed in")
        if assesses:
            assessed = _assess(evaluator, folder, seed)
            result = assessed if result is None else result
    return result


def _assess(evaluator: Any, folder: Path, seed: int) -> Any:
    real_samples = write_images(folder / "real", count=6, seed=seed)
    synthetic_samples = write_images(folder / "synthetic", count=6, seed=seed + 1)
    real = tiny_split("real", n=6, seed=seed).images
    synthetic = tiny_split("synthetic", n=6, seed=seed + 1).images
    outdir = folder / "assess"
    outdir.mkdir(parents=True, exist_ok=True)
    result = _call(evaluator, "assess()", evaluator.assess, real, synthetic, embed=_features,
                   space="check-features", spec=PreprocessSpec(size=16, channels=1),
                   real_paths=[s.path for s in real_samples],
                   synthetic_paths=[s.path for s in synthetic_samples], outdir=outdir)
    _require(isinstance(result, dict), evaluator, f"assess() returned a {type(result).__name__}",
             "return a dict of JSON-ready results")
    _check_result(evaluator, "assess()", result)
    return result


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)


def _check_result(evaluator: object, call: str, result: Any) -> None:
    from ..experiment.evaluation import NotJSON, plain_json

    if isinstance(result, Findings):
        try:
            Findings.model_validate(result.model_dump())
        except ValidationError as exc:
            _fail(evaluator, f"{call} returned Findings that do not validate: "
                  f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
                  "build Findings, EvidenceLine and Headline with their constructors")
        results = result.results
    else:
        _require(isinstance(result, dict), evaluator,
                 f"{call} returned a {type(result).__name__}",
                 "return a dict of JSON-ready results, or a Findings")
        results = result
    try:
        plain_json(results, "result")
    except NotJSON as exc:
        _fail(evaluator, f"{call} returned results JSON cannot hold: {exc}",
              "return numbers, strings, lists and dicts with string keys (numpy scalars "
              "are converted; return None for an undefined metric)")
    if isinstance(result, Findings):
        _check_evidence(evaluator, call, result)


def _check_evidence(evaluator: object, call: str, findings: Findings) -> None:
    keys = [line.key for line in findings.evidence]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    _require(not twice, evaluator, f"{call} returned two evidence lines keyed {twice}",
             "give each line of one evaluator its own key")
    for line in findings.evidence:
        where = f"{call} evidence line {line.key!r}"
        _require(line.finding.strip() and line.meaning.strip(), evaluator,
                 f"{where} has an empty finding or meaning",
                 "say the number as shown (finding) and, in one sentence, what it means")
        _require(_finite(line.value), evaluator, f"{where} has the value {line.value!r}",
                 "give a finite number, or None where there is none")
        if line.interval is not None:
            low, high = line.interval
            _require(math.isfinite(low) and math.isfinite(high) and low <= high, evaluator,
                     f"{where} has the interval {line.interval!r}",
                     "give (low, high), finite, with low <= high, or None")
    if findings.headline is not None:
        metric_keys = [m.key for m in findings.headline.metrics]
        _require(len(set(metric_keys)) == len(metric_keys), evaluator,
                 f"{call} returned a headline with the keys {metric_keys}",
                 "give each headline metric its own key")
        for metric in findings.headline.metrics:
            est = metric.estimate
            _require(all(_finite(v) for v in (est.value, est.low, est.high)), evaluator,
                     f"{call} headline {metric.key!r} is {est.value}, [{est.low}, {est.high}]",
                     "give finite numbers, or None where a number is undefined")
    try:
        json.dumps(findings.model_dump(mode="json"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        _fail(evaluator, f"{call} returned Findings JSON cannot hold: {exc}",
              "keep results, lines and headline to plain finite numbers and strings")
