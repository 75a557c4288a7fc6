"""Room on disk before a large write: the check every component makes before it saves.

A full disk met in the middle of a write is the worst moment to meet it: h5py,
which writes Keras weights, has crashed the whole process (a segmentation
fault) after "No space left on device", and a half-written file may be left
behind. So every checkpoint, model and image write asks first, with
:func:`ensure_room`, and a full disk becomes one error naming the folder,
what was about to be written and what to do. Plugins use the same helpers.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .._util.atomic import atomic_path
from .._util.diskspace import check_free_space

RESERVE = 1 << 20
"""Bytes kept free beyond every estimate (1 MiB): room for the small files a
stage writes after its large one (state files, and the failed run's
``meta.json``), and for filesystem overhead an estimate does not count."""

_OVERHEAD = 64 << 10  # bytes per saved model beyond its weights: config, archive, HDF5 headers


def ensure_room(folder: str | Path, needed: int, what: str) -> None:
    """Refuse a write of about ``needed`` bytes into ``folder`` that its disk cannot hold.

    :param what: what is about to be written, for the message (``"the GAN
        checkpoint epoch-0005"``).
    :raises DiskFullError: naming ``folder``, the free and the needed space;
        a run adds the command that continues once space is freed.
    """
    check_free_space(folder, int(needed) + RESERVE, what)


def model_bytes(*models: Any, slots: int = 0) -> int:
    """About how many bytes saving ``models`` writes: float32 weights, plus ``slots``
    optimizer values per weight (2 for Adam's moments), plus a little per model."""
    total = 0
    for model in models:
        try:
            params = int(model.count_params())
        except (ValueError, AttributeError):  # not built yet: nothing to estimate
            params = 0
        total += params * 4 * (1 + slots) + _OVERHEAD
    return total


def write_file(path: str | Path, data: bytes, what: str | None = None) -> None:
    """Write ``data`` to ``path`` atomically, after :func:`ensure_room` for its size."""
    path = Path(path)
    ensure_room(path.parent, len(data), what or str(path))
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def figure_png(figure: Any) -> bytes:
    """A matplotlib figure rendered as PNG bytes (to write with :func:`write_file`)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


__all__ = ["RESERVE", "ensure_room", "figure_png", "model_bytes", "write_file"]
