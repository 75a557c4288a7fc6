"""Side effects of GAN training, as Keras callbacks: progress, losses, sample grids, checkpoints."""

from __future__ import annotations

import csv
import io
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from bamnet_core.contract import DataError, ProgressCallback, ProgressEvent, atomic_path

from . import checkpoint, figures
from .checkpoint import GanState

LOSSES_CSV = "losses.csv"
LOSSES_PNG = "losses.png"
SAMPLES = "samples"


def losses_csv(history: list[dict[str, Any]]) -> str:
    """The per-epoch losses as CSV text."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["epoch", "d_loss", "g_loss", "seconds"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def check_finite(epoch: int, logs: dict[str, Any]) -> None:
    """Stop a diverged GAN before its weights are checkpointed."""
    bad = {k: logs.get(k) for k in ("d_loss", "g_loss")
           if logs.get(k) is None or not math.isfinite(float(logs[k]))}
    if bad:
        raise DataError(f"GAN training diverged at epoch {epoch}: "
                        + ", ".join(f"{k} = {v}" for k, v in bad.items()),
                        hint="lower generator.g_lr and generator.d_lr, or set "
                             "generator.label_smoothing or generator.augment; "
                             "`bamnet resume RUN_DIR` restarts from the last good epoch")


def gan_progress(progress: ProgressCallback, *, epochs: int, steps: int) -> Any:
    """A callback sending one ``generator`` progress event per batch: epochs x steps in all."""
    import keras

    class GanProgress(keras.callbacks.Callback):
        """Forwards batch ends to the progress callback."""

        def __init__(self, progress: ProgressCallback, *, epochs: int, steps: int) -> None:
            super().__init__()
            self.progress, self.epochs, self.steps = progress, epochs, steps
            self.epoch = 0
            self.last: dict[str, float] = {}

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            fields = {"epoch": self.epoch + 1, "epochs": self.epochs,
                      **{k: float(v) for k, v in (logs or {}).items()}}
            self.progress(ProgressEvent("generator", self.epoch * self.steps + batch + 1,
                                        self.epochs * self.steps,
                                        f"GAN epoch {self.epoch + 1}/{self.epochs}", fields))

    return GanProgress(progress, epochs=epochs, steps=steps)


def gan_recorder(*, workdir: Path, state: GanState, latents: np.ndarray,
                 sample_every: int, checkpoint_every: int = 1) -> Any:
    """At each epoch end: history row, ``losses.csv``, grids and plot, then a checkpoint.

    :param workdir: the generator's folder in the run folder.
    :param state: the training state, updated and committed here.
    :param latents: the fixed latent batch of the sample grid, so epochs compare.
    :param sample_every: write a grid (and the loss plot) every this many epochs,
        and always after the last.
    :param checkpoint_every: commit a checkpoint every this many epochs, and after the last.
    """
    import keras

    class GanRecorder(keras.callbacks.Callback):
        """Records each epoch, then commits a checkpoint."""

        def __init__(self) -> None:
            super().__init__()
            self.workdir, self.state, self.latents = workdir, state, latents
            self.sample_every, self.checkpoint_every = sample_every, checkpoint_every

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            check_finite(epoch + 1, logs)
            state = self.state
            state.epoch = epoch + 1
            state.history.append({"epoch": state.epoch, "d_loss": float(logs["d_loss"]),
                                  "g_loss": float(logs["g_loss"]),
                                  "seconds": round(time.perf_counter() - self.start, 3)})
            with atomic_path(self.workdir / LOSSES_CSV) as tmp:
                tmp.write_text(losses_csv(state.history), encoding="utf-8")
            if state.epoch % self.sample_every == 0 or state.epoch == state.epochs:
                images = keras.ops.convert_to_numpy(
                    self.model.generator(self.latents, training=False))
                figures.sample_grid(images, self.workdir / SAMPLES / f"epoch-{state.epoch:04d}.png")
                figures.loss_plot(state.history, self.workdir / LOSSES_PNG,
                                  f"DCGAN losses, epochs 1-{state.epoch}")
            if state.epoch % self.checkpoint_every == 0 or state.epoch == state.epochs:
                checkpoint.save_epoch(self.workdir, self.model, state)

    return GanRecorder()
