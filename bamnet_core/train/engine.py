"""The training engine: build, compile and fit a backbone's model from ``[train]``.

:func:`train_model` runs up to two phases: ``train`` (the backbone frozen as
configured; on cached features when it is entirely frozen and nothing is
augmented) and ``finetune`` (``[train.finetune]``: the backbone's layers from
``unfreeze`` on become trainable, at a lower learning rate). Every epoch ends
with an atomic checkpoint, so ``resume=True`` continues a killed run.

TensorFlow and Keras are imported inside functions, so importing this module
stays cheap; only a run that trains pays for them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..config.schema import AugmentSection, OptimizerSection, TrainSection
from ..contract.capabilities import ChecksPreprocess, FineTunable, SplitBackbone
from ..contract.protocols import compose
from ..errors import ConfigError
from ..imaging.preprocess import PreprocessSpec
from ..runs.layout import BEST, HISTORY
from . import checkpoint
from .augment import augment_enabled
from .backend import import_keras
from .callbacks import epoch_recorder, epoch_reseeder, progress_forwarder
from .checkpoint import TrainState
from .dataset import Batches, keras_batches, tf_batches
from .distribution import placement
from .feature_cache import cached_features
from .setup import (
    build_optimizer,
    check_float32_output,
    class_weights,
    describe_device,
    mixed_policy,
    seed_everything,
)

__all__ = ["TrainResult", "build_optimizer", "class_weights", "describe_device", "history_csv",
           "predict", "seed_everything", "train_model"]


@dataclass
class TrainResult:
    """What training produced.

    :param model: the full model (backbone and head), trained.
    :param history: one row per epoch, all phases, each epoch once.
    :param info: how it trained (feature cache, phases, best epoch, resume).
    """

    model: Any
    history: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)


def history_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The history as CSV, one row per epoch (columns: the union of the rows' keys)."""
    if not rows:
        return "epoch\n"
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def predict(model: Any, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities for ``x`` (an empty input gives an empty result)."""
    if len(x) == 0:
        return np.zeros((0, int(model.output_shape[-1])), dtype=np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def use_feature_cache(train: TrainSection, extractor: Any | None) -> bool:
    """Whether to train the head on cached features (``train.feature_cache``)."""
    setting = train.feature_cache
    reasons = []
    if extractor is None:
        reasons.append("the backbone does not offer a feature extractor / head split")
    elif extractor.trainable_weights:
        reasons.append("the backbone is not entirely frozen (set [backbone] freeze = \"all\")")
    if augment_enabled(train.augment):
        reasons.append("[train.augment] is on (every epoch sees new pixels)")
    if setting is True and reasons:
        raise ConfigError("train.feature_cache = true, but " + "; and ".join(reasons),
                          hint='set train.feature_cache = "auto" or false')
    return setting is not False and not reasons


def finetune_start(backbone: Any, configured: str | None) -> str:
    """The layer-name prefix fine-tuning unfreezes from: configured, else the backbone's."""
    if configured:
        return configured
    if isinstance(backbone, FineTunable):
        return backbone.finetune_from
    raise ConfigError("train.finetune.unfreeze is not set and the backbone names no default "
                      "layer to fine-tune from",
                      hint="set --set train.finetune.unfreeze=LAYER_NAME_PREFIX")


def unfreeze(layers: Sequence[Any], prefix: str) -> int:
    """Make ``layers`` from the first named ``prefix...`` on trainable; return how many."""
    names = [layer.name for layer in layers]
    start = next((i for i, n in enumerate(names) if n.startswith(prefix)), None)
    if start is None:
        raise ConfigError(f"train.finetune.unfreeze {prefix!r} matches no backbone layer; "
                          f"layers: {', '.join(names)}",
                          hint="name the prefix of one of these layers")
    for layer in layers[start:]:
        layer.trainable = True
    return len(layers) - start


@dataclass
class _Job:
    train: TrainSection
    spec: PreprocessSpec
    seed: int
    run_dir: Path
    num_classes: int
    progress: ProgressCallback
    replicas: int = 1


def _compile(job: _Job, model: Any, optimizer: OptimizerSection) -> None:
    # JAX without jax.jit runs op by op, several times slower: XLA is how JAX trains.
    jit = True if import_keras().backend.backend() == "jax" else job.train.jit_compile
    model.compile(optimizer=build_optimizer(optimizer), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit)


def _fit(job: _Job, trained: Any, full: Any, state: TrainState, data: tuple[np.ndarray, ...],
         end: int, augment: AugmentSection | None) -> None:
    x, y, xv, yv = data
    train = job.train
    batch, start = train.batch_size, state.phase_epochs
    offset = len(state.history) - start
    batches = Batches(x, y, batch_size=batch, seed=job.seed, augment=augment, spec=job.spec,
                      full_batches=job.replicas > 1)
    steps = batches.steps
    if import_keras().backend.backend() == "tensorflow":
        ds, per_epoch = tf_batches(batches, start_epoch=start, end_epoch=end), steps
    else:
        ds, per_epoch = keras_batches(batches, start_epoch=start), None
    weights = class_weights(y, job.num_classes) if train.class_weight == "balanced" else None
    trained.fit(ds, validation_data=(xv, yv), validation_batch_size=batch, epochs=end,
                shuffle=False, initial_epoch=start, steps_per_epoch=per_epoch,
                class_weight=weights, verbose=0,
                callbacks=[epoch_reseeder(job.seed, offset),
                           progress_forwarder(job.progress, end, steps, offset),
                           epoch_recorder(run_dir=job.run_dir, state=state, trained=trained,
                                          full=full, monitor=train.monitor,
                                          patience=train.early_stopping,
                                          history_csv=history_csv, best_file=BEST,
                                          history_file=HISTORY)])


def train_model(backbone: Any, spec: PreprocessSpec, x_train: np.ndarray, y_train: np.ndarray,
                x_val: np.ndarray, y_val: np.ndarray, *, train: TrainSection,
                num_classes: int, seed: int, run_dir: str | Path, resume: bool = False,
                progress: ProgressCallback = silent) -> TrainResult:
    """Train ``backbone``'s model as ``[train]`` says, checkpointing into ``run_dir``.

    :param backbone: a :class:`~bamnet_core.contract.protocols.Backbone` (optionally a
        :class:`~bamnet_core.contract.capabilities.SplitBackbone`).
    :param train: the resolved ``[train]`` section.
    :param resume: continue from ``run_dir/checkpoint`` when it holds a state.
    """
    keras = import_keras()
    if isinstance(backbone, ChecksPreprocess):
        backbone.check_preprocess(spec)
    before = keras.config.dtype_policy().name
    if train.jit_compile and keras.backend.backend() == "tensorflow":
        # Keras silently skips XLA while TensorFlow op determinism is on; XLA wins here.
        from tensorflow.python.framework.config import disable_op_determinism

        disable_op_determinism()
    if train.mixed_precision:
        keras.mixed_precision.set_global_policy(mixed_policy())
    try:
        where = placement(train.distribution, train.batch_size)
        job = _Job(train, spec, seed, Path(run_dir), num_classes, progress, where.replicas)
        with where.scope():
            result = _train(job, backbone, (x_train, y_train, x_val, y_val), resume)
        result.info.update(where.describe(train.batch_size))
        return result
    finally:
        keras.mixed_precision.set_global_policy(before)


def resumed_state(job: _Job) -> TrainState | None:
    """The checkpoint to continue from, checked now (``best.keras`` too), not after training.

    A run folder with no ``state.json`` restarts training from epoch 1, and says so.
    """
    state = checkpoint.load_state(job.run_dir, job.train)
    best = job.run_dir / BEST
    if best.exists() or best.is_symlink():
        checkpoint.check_keras_file(best)
    if state is None and (job.run_dir / checkpoint.FOLDER).exists():
        job.progress(ProgressEvent("notice", 0, None,
                                   f"{job.run_dir / checkpoint.FOLDER / checkpoint.STATE} is "
                                   "missing: training restarts from epoch 1"))
    return state


def _train(job: _Job, backbone: Any, data: tuple[np.ndarray, ...], resume: bool) -> TrainResult:
    keras = import_keras()
    train, spec = job.train, job.spec
    state = resumed_state(job) if resume else None
    info: dict[str, Any] = {"resumed_from_epoch": len(state.history) if state else 0}
    extractor = head = None
    if isinstance(backbone, SplitBackbone):
        extractor = backbone.feature_extractor(spec.input_shape)
        head = backbone.head(tuple(extractor.output_shape[1:]), job.num_classes)
        full = compose(extractor, head)
    else:
        full = backbone.build(spec.input_shape, job.num_classes)
    if train.mixed_precision:
        check_float32_output(full, type(backbone).__name__)
    cache = use_feature_cache(train, extractor)
    info["feature_cache"] = cache
    x, y, xv, yv = data
    fitted = full  # the model the last phase compiled and fit
    if state is None or state.phase == "train":
        if state is None:
            state = TrainState(phase="train", phase_epochs=0, model_file="", seed=job.seed)
        trained = full
        if cache:
            x, counts = cached_features(extractor, x, spec=spec, progress=job.progress,
                                        batch_size=train.batch_size)
            xv, counts_val = cached_features(extractor, xv, spec=spec, progress=job.progress,
                                             batch_size=train.batch_size)
            info["feature_cache_counts"] = {"train": counts, "val": counts_val}
            trained = head
        if state.phase_epochs:
            trained = checkpoint.load_model(job.run_dir, state)
            full = compose(extractor, trained) if cache else trained
        else:
            _compile(job, trained, train.optimizer)
        fitted = trained
        if state.phase_epochs < train.epochs and not state.phase_done:
            _fit(job, trained, full, state, (x, y, xv, yv), train.epochs,
                 None if cache else train.augment)
    finetune = train.finetune
    if finetune.epochs > 0:
        x, y, xv, yv = data
        if state.phase == "train":
            inner = full.get_layer("backbone").layers if extractor is not None else full.layers
            info["unfrozen_layers"] = unfreeze(inner, finetune_start(backbone,
                                                                    finetune.unfreeze))
            _compile(job, full, train.optimizer.model_copy(update={"lr": finetune.lr}))
            state = TrainState(phase="finetune", phase_epochs=0, model_file="",
                               history=state.history, best=state.best,
                               best_epoch=state.best_epoch, seed=job.seed)
        else:
            full = checkpoint.load_model(job.run_dir, state)
        fitted = full
        if state.phase_epochs < finetune.epochs and not state.phase_done:
            _fit(job, full, full, state, (x, y, xv, yv), finetune.epochs, train.augment)
    info["precision"] = keras.config.dtype_policy().name
    # compile wraps the optimizer in a LossScaleOptimizer under mixed_float16 (not bfloat16)
    info["loss_scaling"] = info["precision"] == "mixed_float16"
    # XLA as Keras applies it: it turns jit_compile off where it cannot (op determinism on)
    info["jit_compile"] = bool(fitted.jit_compile)
    info["best_epoch"] = state.best_epoch
    info["model_epoch"] = len(state.history)  # the epoch model.keras comes from
    if train.restore_best and (job.run_dir / BEST).is_file():
        full = keras.models.load_model(job.run_dir / BEST)
        info["restored_best"] = True
        info["model_epoch"] = state.best_epoch
    return TrainResult(model=full, history=list(state.history), info=info)
