"""Native thread pools (OpenMP, BLAS) held to a few threads for one call.

scikit-learn's gradient boosting and BLAS spin up one OpenMP thread per core;
on a shared 2-core machine under load they then wait on each other, and a fit
of a second took over a minute (measured: 72 s against 3.7 s single-threaded
for the shortcut baseline on 1,082 images). The limit is restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def native_threads(limit: int = 1) -> Iterator[None]:
    """Limit OpenMP and BLAS thread pools to ``limit`` threads inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=limit):
        yield
