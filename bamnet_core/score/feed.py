"""Discovery in a background thread: scoring starts at once, and the total is known when
discovery ends (for a progress bar with an ETA).

Items wait in memory between discovery and scoring; a path costs about a
hundred bytes, as does the set that makes each path scored once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class DiscoveryFeed(Generic[T]):
    """Iterate ``items`` on a daemon thread; iterate the feed to consume them in order.

    :attr total: how many items discovery found, once it has finished; else ``None``.
    """

    def __init__(self, items: Iterable[T]) -> None:
        self._pending: deque[T] = deque()
        self._ready = threading.Condition()
        self._found = 0
        self._finished = False
        self._stopped = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(items,), daemon=True,
                                        name="bamnet-discovery")
        self._thread.start()

    def _run(self, items: Iterable[T]) -> None:
        try:
            for item in items:
                with self._ready:
                    if self._stopped:
                        return
                    self._pending.append(item)
                    self._found += 1
                    self._ready.notify()
        except BaseException as exc:  # re-raised in the consuming thread
            self._error = exc
        finally:
            with self._ready:
                self._finished = True
                self._ready.notify_all()

    @property
    def total(self) -> int | None:
        """Items found, once discovery has finished."""
        with self._ready:
            return self._found if self._finished else None

    def __iter__(self) -> Iterator[T]:
        while True:
            with self._ready:
                while not self._pending and not self._finished:
                    self._ready.wait()
                if self._pending:
                    item = self._pending.popleft()
                elif self._error is not None:
                    raise self._error
                else:
                    return
            yield item

    def close(self) -> None:
        """Stop discovery (it ends at its next item) and drop what is pending."""
        with self._ready:
            self._stopped = True
            self._pending.clear()
