"""Inference speed from enough work, and "faster" only when the whole range is faster.

Each model is timed in rounds, interleaved (fp32, int8, fp16, then again,
the order turned each round), so a change in the machine's load touches
every model alike. Over all rounds each model runs at least
:attr:`SpeedBudget.images` images and at least :attr:`SpeedBudget.seconds`
seconds, whichever is more. A model's figure is the median of its rounds'
rates, with the slowest and fastest round as its range; one model is
:func:`faster` than another only when its slowest round beats the other's
fastest.

A model is opened for each of its turns, warmed up on one untimed batch, timed
and dropped, so one model's session (weights and activation arena) is held at a
time: with VGG16 at 224 px, holding the fp32 and int8 sessions together made this
step the export's memory peak.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SpeedBudget:
    """How much work each model's speed is measured on: in all, at least ``images``
    inferences and at least ``seconds`` of them, spread over ``rounds`` rounds."""

    images: int = 256
    seconds: float = 10.0
    rounds: int = 5


#: What ``bamnet export`` measures each model on.
DEFAULT_BUDGET = SpeedBudget()


@dataclass(frozen=True)
class Speed:
    """A model's measured images per second: median of its rounds, and their range."""

    median: float
    low: float
    high: float
    images: int
    rounds: int

    def to_dict(self) -> dict[str, Any]:
        """The report's fields for this speed."""
        return {"inference_images_per_s": round(self.median, 2),
                "inference_images_per_s_range": [round(self.low, 2), round(self.high, 2)],
                "timed_images": self.images, "timing_rounds": self.rounds}


def faster(a: Speed, b: Speed) -> bool:
    """Whether ``a`` is faster than ``b``: every round of ``a`` beat every round of ``b``."""
    return a.low > b.high


def fastest(speeds: Mapping[str, Speed]) -> str | None:
    """The model :func:`faster` than every other one, or ``None`` when no model is
    (their ranges overlap); a lone model is the fastest."""
    for name, speed in speeds.items():
        if all(faster(speed, other) for n, other in speeds.items() if n != name):
            return name
    return None


def measure_speeds(openers: Mapping[str, Callable[[], Callable[[np.ndarray], Any]]],
                   probe: np.ndarray, *, batch: int, budget: SpeedBudget = DEFAULT_BUDGET,
                   release: Callable[[], None] = lambda: None) -> dict[str, Speed]:
    """Time every model on ``probe`` (tiled to ``batch`` images), in interleaved rounds.

    :param openers: name -> a function that opens the model and returns a function running
        inference on one batch; it is called for each of the model's turns, and what it
        returned is dropped when the turn ends.
    :param release: called after each turn, once the model is dropped (to hand its memory
        back before the next opens).
    :returns: name -> its :class:`Speed`; empty when ``probe`` is.
    """
    if len(probe) == 0 or not openers:
        return {}
    x = np.concatenate([probe] * -(-batch // len(probe)))[:batch]
    names = list(openers)
    rounds = max(1, budget.rounds)
    images_each = -(-budget.images // rounds)
    seconds_each = budget.seconds / rounds
    rates: dict[str, list[float]] = {n: [] for n in names}
    counted = dict.fromkeys(names, 0)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            rate, done = _timed_turn(openers[name], x, images_each, seconds_each)
            release()
            rates[name].append(rate)
            counted[name] += done
    return {n: Speed(statistics.median(rates[n]), min(rates[n]), max(rates[n]), counted[n],
                     rounds) for n in names}


def _timed_turn(opener: Callable[[], Callable[[np.ndarray], Any]], x: np.ndarray,
                images: int, seconds: float) -> tuple[float, int]:
    """Open a model, warm it up on ``x`` (the first run allocates and picks kernels), then run
    it until it did at least ``images`` images and ``seconds``; its rate and images."""
    predict = opener()
    predict(x)
    done, start = 0, time.perf_counter()
    while True:
        predict(x)
        done += len(x)
        elapsed = time.perf_counter() - start
        if done >= images and elapsed >= seconds:
            return done / elapsed, done
