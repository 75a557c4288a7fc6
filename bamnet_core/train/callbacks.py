"""Keras callbacks of the training engine: progress, reseeding, history, checkpoints,
early stopping."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .._util import atomic
from .._util.progress import ProgressCallback, ProgressEvent
from ..runs.folder import RunFolder
from .checkpoint import TrainState, check_room_for_model, save_state


def progress_forwarder(progress: ProgressCallback, epochs: int, steps: int,
                       first_epoch: int = 0) -> Any:
    """A callback sending step and epoch events (epoch, step, loss, metrics) to ``progress``.

    ``first_epoch`` is the global number of the phase's first epoch minus one,
    so a fine-tuning phase or a resumed run counts on from earlier epochs.
    """
    import keras

    class ProgressForwarder(keras.callbacks.Callback):
        """Forwards Keras batch and epoch ends to a bamnet progress callback."""

        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.last: dict[str, Any] = {}

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch

        def _event(self, done: int, logs: dict | None, step: int) -> None:
            number = first_epoch + self.epoch + 1
            fields = {"epoch": number, "epochs": first_epoch + epochs, "step": step,
                      "steps": steps, **self.last,
                      **{k: float(v) for k, v in (logs or {}).items()}}
            progress(ProgressEvent("train", done, epochs * steps,
                                   f"epoch {number}/{first_epoch + epochs} step {step}/{steps}",
                                   fields))

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self._event(self.epoch * steps + batch + 1, logs, batch + 1)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.last = {k: float(v) for k, v in (logs or {}).items() if k.startswith("val_")}
            self._event((epoch + 1) * steps, logs, steps)

    return ProgressForwarder()


def epoch_reseeder(seed: int, first_epoch: int) -> Any:
    """A callback giving every random generator a state derived from (``seed``, epoch).

    At each epoch start the Keras global seeds and the state of every seed
    generator in the model (dropout, noise layers) are set from the run seed
    and the global epoch number, so epoch N draws the same random numbers
    whether the run went through or was killed and resumed before it: seed
    generator states are not part of a saved ``.keras`` file. ``first_epoch``
    is the global number of the phase's first epoch minus one.
    """
    import keras

    from .augment import epoch_seed

    class EpochReseeder(keras.callbacks.Callback):
        """Reseeds Keras and the model's seed generators at every epoch start."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            number = first_epoch + epoch
            keras.utils.set_random_seed(epoch_seed(seed, number, 3))
            states = [v for v in self.model.variables
                      if v.name.endswith("seed_generator_state")]
            for i, state in enumerate(states):
                state.assign(np.array([epoch_seed(seed, number, 100 + i), 0],
                                      dtype=state.dtype))

    return EpochReseeder()


def better(monitor: str, value: float, best: float | None) -> bool:
    """Whether ``value`` of ``monitor`` beats ``best`` (losses go down, the rest up)."""
    if best is None:
        return True
    return value < best if "loss" in monitor else value > best


def epoch_recorder(*, run_dir: Path, state: TrainState, trained: Any, full: Any,
                   monitor: str, patience: int, history_csv: Any, best_file: str,
                   history_file: str) -> Any:
    """The callback that, at each epoch end, records history and commits a checkpoint.

    :param trained: the model being fitted (the head when features are cached).
    :param full: the full model, saved as ``best_file`` when ``monitor`` improves.
    :param patience: early-stopping patience in epochs; 0 = never stop early.
    :param history_csv: a function rendering history rows as CSV text.
    """
    import keras

    folder = RunFolder(run_dir)  # each file written below is entered in integrity.json

    class EpochRecorder(keras.callbacks.Callback):
        """History row, best model, early stopping and checkpoint, in that order."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = {k: float(v) for k, v in (logs or {}).items()}
            row = {"epoch": len(state.history) + 1, "phase": state.phase, **logs,
                   "seconds": round(time.perf_counter() - self.start, 3)}
            state.history.append(row)
            state.phase_epochs = epoch + 1
            atomic.write_text(Path(run_dir) / history_file, history_csv(state.history))
            folder.record("train", [history_file])  # at once: a kill finds it recorded
            value = logs.get(monitor)
            if value is not None and better(monitor, value, state.best):
                state.best, state.best_epoch, state.wait = value, row["epoch"], 0
                check_room_for_model(Path(run_dir), full, best_file)
                with atomic.atomic_path(Path(run_dir) / best_file) as tmp:
                    full.save(tmp)
                folder.record("train", [best_file])
            else:
                state.wait += 1
            if patience and state.wait >= patience:
                self.model.stop_training = True
                state.phase_done = True
            save_state(run_dir, trained, state)

    return EpochRecorder()
