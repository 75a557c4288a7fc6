"""Threads: how many a decode pool uses, and native pools (OpenMP, BLAS) held for one call.

:func:`default_workers` is the usable cores (the decode and scoring pools size by it).

scikit-learn's gradient boosting and BLAS spin up one OpenMP thread per core;
on a shared 2-core machine under load they then wait on each other, and a fit
of a second took over a minute (measured: 72 s against 3.7 s single-threaded
for the shortcut baseline on 1,082 images). The limit is restored afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def default_workers() -> int:
    """Threads for decoding: the usable cores (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def native_threads(limit: int = 1) -> Iterator[None]:
    """Limit OpenMP and BLAS thread pools to ``limit`` threads inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=limit):
        yield
