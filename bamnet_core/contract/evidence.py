"""What an evaluator brings to a run besides its numbers: :class:`Findings`.

An evaluator's ``evaluate_context`` (or ``evaluate``) may return a plain dict
of JSON-ready results, or a :class:`Findings`: the same results plus

- the **verdict lines** they support (:class:`EvidenceLine`, each with its level,
  number and interval, the rule it was held to, and what it means), and
- the **headline numbers** of the split (:class:`Headline`), when this evaluator
  is the one that measures them (accuracy, sensitivity, specificity, ROC AUC).

The core stores all three in ``metrics.json`` and never reads an evaluator's
results by name: the verdict combines the lines of every evaluator on the
headline split by the documented rules (the worst counted level wins;
``info`` lines never count), and the summary, the report and ``compare`` show
the :class:`Headline` of whichever evaluator gave one. A third-party evaluator
adds evidence exactly as a built-in one does.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["strong", "some", "none", "info"]
"""How much shortcut evidence a line holds; ``info`` says what was not measured and never
counts towards the reading."""


def number_text(value: float | None, digits: int = 3) -> str:
    """A number as a verdict line shows it (a dash for None): three decimals, as the
    headline and the report's tables show it, so one quantity reads as one value on a
    page."""
    return "–" if value is None else f"{value:.{digits}f}"


def interval_text(interval: Any) -> str:
    """``" [low, high]"`` of an interval given as a pair or as ``{"low", "high"}``; ``""``
    when either end is unknown."""
    if isinstance(interval, dict) and "low" in interval:
        interval = (interval["low"], interval.get("high"))
    if isinstance(interval, (list, tuple)) and len(interval) == 2 and None not in interval:
        return f" [{interval[0]:.3f}, {interval[1]:.3f}]"
    return ""


def wilson(successes: int, total: int, level: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / total``; None when ``total`` is 0.

    :raises ValueError: for negative counts or more successes than trials.
    """
    if total < 0 or successes < 0 or successes > total:
        raise ValueError(f"a proportion needs 0 <= successes <= total, got {successes}/{total}")
    if total == 0:
        return None
    from scipy.stats import norm

    z = float(norm.ppf(1 - (1 - level) / 2))
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def low_end(interval: Any, value: float) -> float:
    """The low end of a 95% interval given as a pair (``value`` itself when there is none).

    A line counts as evidence only where patient resampling cannot explain it, so rules
    are held against this end.
    """
    if isinstance(interval, (list, tuple)) and len(interval) == 2 and interval[0] is not None:
        return float(interval[0])
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Estimate(_Frozen):
    """A number with its 95% interval (either end None where it was not measured).

    :param value: the point estimate, or None when undefined (a class absent).
    :param low: the interval's low end.
    :param high: the interval's high end.
    """

    value: float | None
    low: float | None = None
    high: float | None = None

    @property
    def interval(self) -> tuple[float, float] | None:
        """``(low, high)`` when both ends are known."""
        if self.low is None or self.high is None:
            return None
        return (self.low, self.high)


class Counts(_Frozen):
    """The confusion counts at the decision threshold, with the positive class explicit."""

    tp: int = Field(ge=0)
    fp: int = Field(ge=0)
    tn: int = Field(ge=0)
    fn: int = Field(ge=0)

    @property
    def positives(self) -> int:
        """Images of the positive class."""
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        """Images of the other classes."""
        return self.tn + self.fp


class HeadlineMetric(_Frozen):
    """One row of the headline table: a stable key, its label, and the estimate.

    Well-known keys the core shows first: ``accuracy``, ``sensitivity``,
    ``specificity``, ``roc_auc``; any other key is shown after them, in order.
    """

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    estimate: Estimate


class Headline(_Frozen):
    """The numbers that headline a split, as one evaluator measured them.

    :param metrics: the rows, in the order to show them.
    :param counts: the confusion counts behind the rates, when known (the support
        rule hides a rate whose counts cannot carry it).
    """

    metrics: tuple[HeadlineMetric, ...] = ()
    counts: Counts | None = None

    def get(self, key: str) -> Estimate | None:
        """The estimate stored under ``key``, or None."""
        return next((m.estimate for m in self.metrics if m.key == key), None)


class EvidenceLine(_Frozen):
    """One line of the verdict.

    :param key: a stable id (``occlusion``, ``source-probe``, ``my-probe``...).
    :param label: what was checked, in words.
    :param level: ``strong``, ``some``, ``none`` or ``info`` (not counted).
    :param finding: the number as shown, with its interval (``"0.99 [0.97, 1.00]"``).
    :param meaning: one sentence: what the number says about the headline.
    :param rule: the threshold it was held to.
    :param value: the number itself, for ``--json`` (None where there is none).
    :param interval: its 95% interval, or None.
    :param shortcut_check: the line looks for a shortcut; with no such line measured,
        a verdict reads "not checked", never "none found".
    """

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    level: Level
    finding: str
    meaning: str
    rule: str = ""
    value: float | None = None
    interval: tuple[float, float] | None = None
    shortcut_check: bool = True


class Findings(_Frozen):
    """What an evaluator returns for one split: its results, verdict lines and headline.

    :param results: JSON-ready results (``metrics.json`` keeps them under the
        evaluator's name).
    :param evidence: the verdict lines these results support.
    :param headline: the split's headline numbers, from the evaluator that measures them.
    """

    results: dict[str, Any] = Field(default_factory=dict)
    evidence: tuple[EvidenceLine, ...] = ()
    headline: Headline | None = None

