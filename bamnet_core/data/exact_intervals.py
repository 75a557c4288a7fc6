"""Intervals for a proportion that stay honest at 0 and 1 and on small counts.

A bootstrap of a proportion that is 0 or 1 in the data resamples only zeros or
only ones, so it gives the degenerate interval ``[1, 1]``: it claims certainty
that one image cannot give. Clopper-Pearson inverts the binomial test and is
exact (it never covers less than its level). Wilson's score interval, narrower and
good from a handful of counts on, is :func:`bamnet_core.contract.wilson`.
"""

from __future__ import annotations

from scipy.stats import beta


def clopper_pearson(successes: int, total: int, level: float = 0.95
                    ) -> tuple[float, float] | None:
    """The exact (Clopper-Pearson) interval of ``successes / total``; None when ``total`` is 0.

    :raises ValueError: for negative counts or more successes than trials.
    """
    _check(successes, total)
    if total == 0:
        return None
    alpha = 1.0 - level
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes,
                                                   total - successes + 1))
    high = 1.0 if successes == total else float(beta.ppf(1 - alpha / 2, successes + 1,
                                                         total - successes))
    return round(low, 4), round(high, 4)


def _check(successes: int, total: int) -> None:
    if total < 0 or successes < 0 or successes > total:
        raise ValueError(f"a proportion needs 0 <= successes <= total, got {successes}/{total}")
