"""How many threads a decode pool should use."""

from __future__ import annotations

import os


def default_workers() -> int:
    """Threads for decoding: the usable cores (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
