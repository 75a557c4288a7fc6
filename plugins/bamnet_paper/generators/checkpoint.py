"""Atomic, resumable GAN checkpoints in ``<workdir>/checkpoint/``.

Each epoch's weights and optimizer state go to a fresh folder that is renamed
into place when complete (``epoch-NNNN/``); then ``state.json`` is replaced
atomically to point at it. ``state.json`` is the commit point: training killed
at any moment resumes from the last epoch it names. Older epoch folders are
removed only after that.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bamnet_core.contract import DataError, atomic_path, ensure_room, model_bytes

FOLDER = "checkpoint"
STATE = "state.json"


@dataclass
class GanState:
    """Where GAN training stands.

    :param fingerprint: what the training depends on (images, options, seed);
        a checkpoint is only resumed by the same training.
    :param epochs: epochs asked for.
    :param epoch: epochs completed.
    :param folder: the committed epoch folder, relative to ``checkpoint/``.
    :param history: one row per completed epoch (``epoch``, ``d_loss``, ``g_loss``, ``seconds``).
    :param finished: the generator is trained and saved as ``generator.keras``.
    """

    fingerprint: str
    epochs: int
    epoch: int = 0
    folder: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False


def load_state(workdir: Path) -> GanState | None:
    """The committed state in ``workdir``, or None when no epoch was committed."""
    path = workdir / FOLDER / STATE
    if not path.is_file():
        return None
    try:
        state = GanState(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path} is damaged: {exc}",
                        hint=f"delete {path.parent} to train the GAN from scratch") from None
    if state.folder and not (path.parent / state.folder).is_dir():
        raise DataError(f"{path} names {state.folder}, which is missing",
                        hint=f"delete {path.parent} to train the GAN from scratch")
    return state


def write_state(workdir: Path, state: GanState) -> None:
    """Commit ``state`` (atomic replace of ``state.json``)."""
    with atomic_path(workdir / FOLDER / STATE) as tmp:
        tmp.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")


def save_epoch(workdir: Path, gan: Any, state: GanState) -> None:
    """Save both networks and both optimizers for ``state.epoch``, then commit ``state``.

    Free space is checked first: h5py has crashed the process on a full disk,
    so a checkpoint that cannot fit is refused before a byte is written.
    """
    folder = workdir / FOLDER
    name = f"epoch-{state.epoch:04d}"
    optimizer_bytes = sum(int(np.prod(v.shape)) * 4 for v in gan.optimizer.variables)
    ensure_room(workdir, model_bytes(gan.generator, gan.discriminator) + optimizer_bytes,
                f"the GAN checkpoint {name}")
    tmp = folder / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    gan.generator.save_weights(tmp / "generator.weights.h5")
    gan.discriminator.save_weights(tmp / "discriminator.weights.h5")
    values = {f"v{i:04d}": np.asarray(v.numpy() if hasattr(v, "numpy") else v)
              for i, v in enumerate(gan.optimizer.variables)}
    np.savez(tmp / "optimizers.npz", **values)
    shutil.rmtree(folder / name, ignore_errors=True)  # an uncommitted leftover of a kill
    os.replace(tmp, folder / name)
    state.folder = name
    write_state(workdir, state)
    for old in folder.glob("epoch-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def restore_epoch(workdir: Path, gan: Any, state: GanState) -> None:
    """Load the weights and optimizer state that ``state`` names into ``gan``."""
    folder = workdir / FOLDER / state.folder
    gan.generator.load_weights(folder / "generator.weights.h5")
    gan.discriminator.load_weights(folder / "discriminator.weights.h5")
    gan.optimizer.build(gan.trainable_variables)
    with np.load(folder / "optimizers.npz") as saved:
        variables = gan.optimizer.variables
        if len(saved.files) != len(variables):
            raise DataError(f"{folder} holds optimizer state of another shape",
                            hint=f"delete {workdir / FOLDER} to train the GAN from scratch")
        for i, variable in enumerate(variables):
            variable.assign(saved[f"v{i:04d}"])
