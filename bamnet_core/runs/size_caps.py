"""The most bytes bamnet reads from each run file, checked before reading.

A run file far larger than any real run writes (a damaged or hostile
``meta.json`` of gigabytes, sparse or not) is refused at once: the size is
taken with ``fstat`` on the opened descriptor, and at most the cap plus one
byte is read, so memory stays bounded whatever the file claims. The caps are
generous: ``split.json`` of a million images is about 300 MB.
"""

from __future__ import annotations

from pathlib import Path

from .._util.capped import MiB, TooLarge, read_text, too_large_message
from ..config.load import CONFIG_MAX_BYTES
from ..errors import RunError
from . import layout

CAPS: dict[str, int] = {
    layout.CONFIG: CONFIG_MAX_BYTES,
    layout.META: 16 * MiB,
    layout.INTEGRITY: 64 * MiB,
    layout.PREPROCESS: 1 * MiB,
    layout.EXPORT_REPORT: 16 * MiB,
    layout.METRICS: 256 * MiB,
    layout.AUDIT: 256 * MiB,
    layout.LOSO_JSON: 256 * MiB,
    layout.COMPARISON_JSON: 256 * MiB,
    layout.SPLIT_JSON: 512 * MiB,
    layout.PROPERTIES: 512 * MiB,
}
OTHER = 1024 * MiB  # any other text a run folder holds (CSVs, a checkpoint's state)


def cap_of(name: str) -> int:
    """The cap for the run file ``name`` (a path inside the folder; its last part decides)."""
    return CAPS.get(Path(name).name, OTHER)


def too_big(path: Path, size: int, cap: int) -> RunError:
    """The one-line refusal of a run file over its cap."""
    return RunError(too_large_message(path, size, cap), hint="the run folder is damaged: "
                    "restore the file from a backup, or start a new run")


def read_capped(path: Path, cap: int) -> str:
    """The UTF-8 text of a regular run file of at most ``cap`` bytes (:func:`.capped.read_text`).

    :raises RunError: when the file is larger than ``cap``.
    :raises OSError: when it is missing, unreadable, or not a regular file.
    :raises UnicodeDecodeError: when it is not UTF-8.
    """
    try:
        return read_text(path, cap)
    except TooLarge as exc:
        raise too_big(path, exc.size, cap) from None
