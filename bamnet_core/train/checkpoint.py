"""Resumable training state in a run folder's ``checkpoint/``.

At each epoch end the model being trained is saved with its optimizer
(``checkpoint/epoch-NNNN.keras``), then ``checkpoint/state.json`` is replaced
atomically to point at it. ``state.json`` is the commit point: a run killed at
any moment resumes from the last epoch whose state was written, and older
epoch files are deleted only after that.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._util import atomic
from ..errors import RunError
from ..runs.layout import CHECKPOINT, CHECKPOINT_STATE

FOLDER = CHECKPOINT
STATE = CHECKPOINT_STATE


@dataclass
class TrainState:
    """Where training stands after a completed epoch.

    :param phase: ``"train"`` (head, backbone as configured) or ``"finetune"``.
    :param phase_epochs: epochs completed in ``phase``.
    :param model_file: the checkpoint's model file, relative to ``checkpoint/``.
    :param history: one row per completed epoch, all phases.
    :param best: best value of the monitored metric so far, and its epoch.
    :param wait: epochs since the monitored metric last improved (this phase).
    :param seed: the run seed (the data order and augmentation derive from it).
    :param phase_done: early stopping ended the phase before its last epoch.
    """

    phase: str
    phase_epochs: int
    model_file: str
    history: list[dict[str, Any]] = field(default_factory=list)
    best: float | None = None
    best_epoch: int | None = None
    wait: int = 0
    seed: int = 0
    phase_done: bool = False


def save_state(run_dir: Path, model: Any, state: TrainState) -> None:
    """Save ``model`` (with optimizer) and ``state`` atomically; prune older model files."""
    folder = Path(run_dir) / FOLDER
    name = f"{state.phase}-epoch-{state.phase_epochs:04d}.keras"
    with atomic.atomic_path(folder / name) as tmp:
        model.save(tmp)
    state.model_file = name
    atomic.write_json(folder / STATE, asdict(state))
    for old in folder.glob("*-epoch-*.keras"):
        if old.name != name:
            old.unlink(missing_ok=True)


def load_state(run_dir: Path) -> TrainState | None:
    """The last committed state, or None if no epoch completed."""
    path = Path(run_dir) / FOLDER / STATE
    if not path.is_file():
        return None
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
        fields.pop("feature_cache", None)  # written by bamnet 0.1; derived again on resume
        state = TrainState(**fields)
    except (ValueError, TypeError) as exc:
        raise RunError(f"{path} is damaged: {exc}",
                       hint="delete the checkpoint folder to restart from scratch") from None
    if not (path.parent / state.model_file).is_file():
        raise RunError(f"{path} names {state.model_file}, which is missing",
                       hint="delete the checkpoint folder to restart training from scratch")
    return state


def load_model(run_dir: Path, state: TrainState) -> Any:
    """The checkpointed model, compiled, with its optimizer state."""
    import keras

    return keras.models.load_model(Path(run_dir) / FOLDER / state.model_file)
