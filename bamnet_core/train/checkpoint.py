"""Resumable training state in a run folder's ``checkpoint/``.

At each epoch end the model being trained is saved with its optimizer
(``checkpoint/epoch-NNNN.keras``), then ``checkpoint/state.json`` is replaced
atomically to point at it. ``state.json`` is the commit point: a run killed at
any moment resumes from the last epoch whose state was written, and older
epoch files are deleted only after that. Both are entered in the run's
``integrity.json`` as they are written, so a resumed run refuses a checkpoint
changed since.
"""

from __future__ import annotations

import json
import stat
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._util import atomic
from .._util.diskspace import check_free_space
from ..config.schema import TrainSection
from ..errors import RunError
from ..runs.folder import RunFolder
from ..runs.layout import (
    BEST,
    CHECKPOINT,
    CHECKPOINT_MODEL,
    CHECKPOINT_MODELS,
    CHECKPOINT_STATE,
    checkpoint_model,
)

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


def saved_model_bytes(model: Any) -> int:
    """About how many bytes ``model.save`` writes: float32 weights, and two optimizer slots
    per weight (Adam's moments), plus 1 MB of config and archive overhead."""
    try:
        params = int(model.count_params())
    except (ValueError, AttributeError):  # not built yet: nothing to estimate
        params = 0
    return params * 4 * 3 + 1_000_000


def check_room_for_model(folder: Path, model: Any, what: str) -> None:
    """Refuse to start writing ``model`` to ``folder`` when its disk cannot hold it.

    The old file is kept until the new one is renamed over it, so the new file
    needs its whole size free.
    """
    check_free_space(folder, saved_model_bytes(model), what)


def save_state(run_dir: Path, model: Any, state: TrainState) -> None:
    """Save ``model`` (with optimizer) and ``state`` atomically; prune older model files.

    Free space is checked first (:func:`check_room_for_model`), so a full disk is
    one error naming the checkpoint folder, and the last good checkpoint stays.
    """
    folder = Path(run_dir) / FOLDER
    name = checkpoint_model(state.phase, state.phase_epochs)
    check_room_for_model(folder, model, f"the checkpoint {name}")
    with atomic.atomic_path(folder / name) as tmp:
        model.save(tmp)
    state.model_file = name
    atomic.write_json(folder / STATE, asdict(state))
    run = RunFolder(run_dir)
    run.record("train", [f"{FOLDER}/{name}", f"{FOLDER}/{STATE}"])
    old = [path for path in folder.glob(CHECKPOINT_MODELS) if path.name != name]
    for path in old:
        path.unlink(missing_ok=True)
    run.forget([f"{FOLDER}/{path.name}" for path in old])


MODEL_FILE = CHECKPOINT_MODEL
PHASES = ("train", "finetune")


def load_state(run_dir: Path, train: TrainSection | None = None) -> TrainState | None:
    """The last committed state, or None if no epoch completed.

    Everything in ``state.json`` is checked before it is trusted: its fields and
    their types, that ``model_file`` names a plain file inside ``checkpoint/`` (no
    path, no symlink), and, given ``train``, that its epoch counts fit the config.

    :raises RunError: naming ``state.json`` (or the model file) and what to do.
    """
    path = Path(run_dir) / FOLDER / STATE
    if not path.is_file():
        return None
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
        fields.pop("feature_cache", None)  # written by bamnet 0.1; derived again on resume
        state = TrainState(**fields)
    except (ValueError, TypeError, AttributeError) as exc:
        raise damaged(path, str(exc)) from None
    problem = _state_problem(state, train)
    if problem:
        raise damaged(path, problem)
    model = path.parent / state.model_file
    try:
        info = model.lstat()
    except FileNotFoundError:
        raise damaged(path, f"it names {state.model_file}, which is missing") from None
    if not stat.S_ISREG(info.st_mode):
        raise damaged(path, f"it names {state.model_file}, which is not a plain file")
    return state


def damaged(path: Path, problem: str) -> RunError:
    """The error for a damaged model file: what is wrong and how to get it again."""
    if path.parent.name != FOLDER and path.name != BEST:  # model.keras: the train stage's
        return RunError(f"{path} is damaged: {problem}",
                        hint=f"write it again with: bamnet resume {path.parent} --from train")
    folder = path.parent if path.parent.name == FOLDER else path.parent / FOLDER
    return RunError(f"{path} is damaged: {problem}",
                    hint=f"delete {folder} (and {folder.parent / BEST}) to train again from "
                         f"epoch 1, then: bamnet resume {folder.parent}")


def _state_problem(state: TrainState, train: TrainSection | None) -> str | None:
    """What is wrong with a state read from disk, or None."""
    counts = (state.phase_epochs, state.wait, state.seed)
    if state.phase not in PHASES or not all(type(n) is int and n >= 0 for n in counts) or \
            not isinstance(state.history, list) or not isinstance(state.phase_done, bool):
        return "its fields have the wrong types or values"
    match = MODEL_FILE.match(state.model_file) if isinstance(state.model_file, str) else None
    if match is None or match.group(1) != state.phase:
        return (f"model_file {str(state.model_file)[:200]!r} is not a {state.phase} checkpoint "
                "file inside checkpoint/ (phase-epoch-NNNN.keras)")
    if int(match.group(2)) != state.phase_epochs:
        return f"model_file {state.model_file} is not epoch {state.phase_epochs}"
    if train is None:
        return None
    configured = train.epochs if state.phase == "train" else train.finetune.epochs
    if state.phase_epochs > configured or state.phase_epochs == 0:
        return (f"it records {state.phase_epochs} epoch(s) of phase {state.phase}, but the "
                f"config trains {configured}")
    # the train phase may have stopped early, so a finetune state's history is a range
    low = state.phase_epochs + (1 if state.phase == "finetune" else 0)
    high = state.phase_epochs + (train.epochs if state.phase == "finetune" else 0)
    if not low <= len(state.history) <= high:
        return (f"its history has {len(state.history)} epoch(s), which does not fit "
                f"{state.phase_epochs} epoch(s) of phase {state.phase}")
    return None


def check_keras_file(path: Path) -> None:
    """Raise :class:`RunError` unless ``path`` is a whole ``.keras`` archive (cheap: no Keras).

    Reads the zip's directory and checks every member's CRC and the model's
    ``config.json``, so a damaged file is named now, not after hours of training.
    """
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            raise damaged(path, "not a plain file")
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise damaged(path, f"member {bad} fails its checksum")
            json.loads(archive.read("config.json"))
    except RunError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise damaged(path, f"not a readable .keras file ({type(exc).__name__}: "
                            f"{str(exc)[:200]})") from None


def load_model(run_dir: Path, state: TrainState) -> Any:
    """The checkpointed model, compiled, with its optimizer state.

    :raises RunError: naming the file when it cannot be loaded (damaged, or a
        model Keras refuses to load safely, such as one with a ``Lambda`` layer).
    """
    import keras

    path = Path(run_dir) / FOLDER / state.model_file
    check_keras_file(path)
    try:
        return keras.models.load_model(path)
    except Exception as exc:  # Keras raises ValueError/TypeError/OSError for bad archives
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise damaged(path, f"Keras cannot load it ({type(exc).__name__}: {text[:200]})"
                      ) from None
