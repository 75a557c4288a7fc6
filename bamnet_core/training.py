"""Compile and fit a Keras model from the ``[train]`` config section.

TensorFlow and Keras are imported inside functions, so importing this module
stays cheap; only a run that trains pays for them.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .backend import import_keras
from .progress import ProgressCallback, ProgressEvent, silent


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend; make TensorFlow ops deterministic."""
    keras = import_keras()

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def describe_device() -> dict[str, Any]:
    """Which backend and device training runs on (for ``meta.json``)."""
    import keras

    backend = keras.backend.backend()
    info: dict[str, Any] = {"keras": keras.__version__, "backend": backend, "device": "CPU"}
    if backend == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            info["device"] = "GPU"
            info["gpus"] = [g.name for g in gpus]
    elif backend == "jax":
        import jax

        devices = jax.devices()
        info["device"] = devices[0].platform.upper() if devices else "CPU"
    return info


def build_optimizer(opt: dict[str, Any]) -> Any:
    """An optimizer from ``[train.optimizer]``.

    ``decay`` is the classic Keras learning-rate decay, ``lr / (1 + decay * step)``,
    expressed as an inverse-time schedule.
    """
    import keras

    lr: Any = opt["lr"]
    if opt["decay"] > 0:
        lr = keras.optimizers.schedules.InverseTimeDecay(
            initial_learning_rate=opt["lr"], decay_steps=1, decay_rate=opt["decay"]
        )
    if opt["name"] == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=opt["beta_1"])
    return keras.optimizers.Adam(learning_rate=lr, beta_1=opt["beta_1"], beta_2=opt["beta_2"])


def class_weights(y: np.ndarray, num_classes: int) -> dict[int, float]:
    """Balanced weights, ``n / (k * count)``, for classes present in ``y``."""
    counts = np.bincount(y, minlength=num_classes)
    n, k = len(y), int((counts > 0).sum())
    return {i: float(n / (k * c)) for i, c in enumerate(counts) if c > 0}


def _progress_callback(progress: ProgressCallback, epochs: int, steps: int) -> Any:
    import keras

    class ProgressForwarder(keras.callbacks.Callback):
        """Forwards Keras batch and epoch ends to a bamnet progress callback."""

        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.last: dict[str, Any] = {}
            self.start = time.perf_counter()

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            fields = {"epoch": self.epoch + 1, "epochs": epochs, **self.last,
                      **{k: float(v) for k, v in (logs or {}).items()}}
            progress(ProgressEvent("train", self.epoch * steps + batch + 1, epochs * steps,
                                   f"epoch {self.epoch + 1}/{epochs}", fields))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.last = {k: float(v) for k, v in (logs or {}).items() if k.startswith("val_")}
            progress(ProgressEvent("train", (epoch + 1) * steps, epochs * steps,
                                   f"epoch {epoch + 1}/{epochs}",
                                   {"epoch": epoch + 1, "epochs": epochs,
                                    **{k: float(v) for k, v in (logs or {}).items()}}))

    return ProgressForwarder()


def fit(
    model: Any,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    train: dict[str, Any],
    num_classes: int,
    progress: ProgressCallback = silent,
) -> list[dict[str, float]]:
    """Compile ``model`` and fit it; return the history, one dict per epoch."""
    model.compile(
        optimizer=build_optimizer(train["optimizer"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    batch = train["batch_size"]
    steps = max(1, -(-len(x_train) // batch))
    weights = class_weights(y_train, num_classes) if train["class_weight"] == "balanced" else None
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val) if len(x_val) else None,
        epochs=train["epochs"],
        batch_size=batch,
        shuffle=True,
        class_weight=weights,
        verbose=0,
        callbacks=[_progress_callback(progress, train["epochs"], steps)],
    )
    keys = list(history.history)
    return [
        {"epoch": i + 1, **{k: float(history.history[k][i]) for k in keys}}
        for i in range(len(history.history[keys[0]]) if keys else 0)
    ]


def history_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The history as CSV, one row per epoch."""
    if not rows:
        return "epoch\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def predict(model: Any, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities for ``x`` (an empty input gives an empty result)."""
    if len(x) == 0:
        return np.zeros((0, int(model.output_shape[-1])), dtype=np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)

