"""Quiet a chatty third-party logger for the duration of one call, then restore it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quieted(*names: str, level: int = logging.ERROR) -> Iterator[None]:
    """Raise the level of the named loggers (``""`` is the root logger) inside the block."""
    loggers = [logging.getLogger(name or None) for name in names]
    saved = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(max(level, logger.getEffectiveLevel()))
        yield
    finally:
        for logger, old in zip(loggers, saved, strict=True):
            logger.setLevel(old)
