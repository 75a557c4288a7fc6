"""No number without its support: rates and AUCs shown only where the counts carry them.

A sensitivity needs positive images, a specificity negative ones, a ROC-AUC
both. Below the ``[report]`` minimums a value reads "too few (n = 1)". A
proportion at 0 or 1, or one whose bootstrap interval collapsed to a point,
gets the exact Clopper-Pearson interval of its counts instead: a bootstrap
cannot give an interval for a perfect proportion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..data.exact_intervals import clopper_pearson

# metric -> (numerator, denominator) from the headline's confusion counts, for binary runs.
PROPORTIONS = {
    "accuracy": (("tp", "tn"), ("tp", "tn", "fp", "fn")),
    "sensitivity": (("tp",), ("tp", "fn")),
    "specificity": (("tn",), ("tn", "fp")),
    "ppv": (("tp",), ("tp", "fp")),
    "npv": (("tn",), ("tn", "fn")),
}
# which counts a metric needs, and the minimum each must reach ("pos" / "neg").
NEEDS = {"sensitivity": ("pos",), "specificity": ("neg",), "roc_auc": ("pos", "neg"),
         "pr_auc": ("pos", "neg"), "balanced_accuracy": ("pos", "neg"), "auc": ("pos", "neg")}


@dataclass(frozen=True)
class Shown:
    """A number as the report shows it: its text, interval text, and how the interval was made."""

    value: str
    interval: str
    method: str  # "bootstrap", "exact", "" (no interval) or "too few"

    @property
    def supported(self) -> bool:
        """Whether the counts carry a value."""
        return self.method != "too few"


def too_few(positives: int | None, negatives: int | None, metric: str,
            min_positives: int, min_negatives: int) -> int | None:
    """The short count when ``metric`` lacks support (None when it has enough or is unknown)."""
    short = []
    for need in NEEDS.get(metric, ()):
        n, least = (positives, min_positives) if need == "pos" else (negatives, min_negatives)
        if n is not None and n < least:
            short.append(n)
    return min(short) if short else None


class Minimums(Protocol):
    """The ``[report]`` minimums the support rule reads."""

    min_positives: int
    min_negatives: int


def split_support(positives: int | None, negatives: int | None, split: str,
                  settings: Minimums) -> str | None:
    """Why ``split`` is too small to conclude anything, or None when it is not (or its
    counts are unknown).

    The one rule behind every "too few" in bamnet (run summary, ``--json``, the
    verdict, the model card, the report): a split needs ``[report] min_positives``
    images of the positive class and ``min_negatives`` of the others, the least a
    ROC-AUC needs. Below that its numbers are shown only with a "too few" mark and
    the verdict reads "too few images to conclude".
    """
    short = [f"{n} {word} image{'s' if n != 1 else ''} (at least {least} needed)"
             for n, least, word in ((positives, settings.min_positives, "positive"),
                                    (negatives, settings.min_negatives, "negative"))
             if n is not None and n < least]
    return f"the {split} split holds " + " and ".join(short) if short else None


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else "–"


def show(metric: str, value: Any, ci: Any, counts: dict[str, int] | None, *,
         min_positives: int, min_negatives: int) -> Shown:
    """How ``metric`` of one split or group is shown.

    :param ci: its bootstrap interval: ``{"low", "high"}``, ``[low, high]`` or None.
    :param counts: ``tp``, ``fp``, ``tn``, ``fn`` (or only ``pos``/``neg``), or None.
    """
    counts = counts or {}
    pos = counts.get("pos", counts.get("tp", 0) + counts.get("fn", 0)) if counts else None
    neg = counts.get("neg", counts.get("tn", 0) + counts.get("fp", 0)) if counts else None
    short = too_few(pos, neg, metric, min_positives, min_negatives)
    if short is not None:
        return Shown(f"too few (n = {short})", "–", "too few")
    if value is None:
        return Shown("–", "–", "")
    low, high = _bounds(ci)
    if metric in ("sensitivity", "specificity", "accuracy") and "pos" in counts \
            and "neg" in counts:  # the rate's own counts, from its value and denominator
        total = {"sensitivity": counts["pos"], "specificity": counts["neg"],
                 "accuracy": counts["pos"] + counts["neg"]}[metric]
        counts = {"hit": round(float(value) * total), "miss": total - round(float(value) * total)}
        parts: tuple | None = (("hit",), ("hit", "miss"))
    else:
        parts = PROPORTIONS.get(metric)
    if parts and all(k in counts for k in parts[1]) and (
            value in (0.0, 1.0) or low is None or low == high):
        exact = clopper_pearson(sum(counts[k] for k in parts[0]),
                                sum(counts[k] for k in parts[1]))
        if exact is not None:
            return Shown(_num(value), f"[{exact[0]:.3f}, {exact[1]:.3f}] exact", "exact")
    if low is None:
        return Shown(_num(value), "–", "")
    if low == high:  # a collapsed bootstrap with no counts to replace it: say nothing
        return Shown(_num(value), "– (bootstrap degenerate)", "")
    return Shown(_num(value), f"[{low:.3f}, {high:.3f}]", "bootstrap")


def show_in_split(metric: str, value: Any, ci: Any, counts: dict[str, int] | None,
                  settings: Minimums) -> Shown:
    """How a number measured on a whole split is shown: :func:`show`, and every number of a
    split too small to conclude (:func:`split_support`) marked "too few" as well, accuracy
    included.

    :param counts: the split's confusion counts (``tp``, ``fp``, ``tn``, ``fn``), or None.
    """
    shown = show(metric, value, ci, counts, min_positives=settings.min_positives,
                 min_negatives=settings.min_negatives)
    if not counts or not shown.supported or value is None:
        return shown
    pos, neg = counts.get("tp", 0) + counts.get("fn", 0), counts.get("tn", 0) + counts.get("fp", 0)
    if split_support(pos, neg, "", settings) is None:
        return shown
    return Shown(f"too few (n = {min(pos, neg)})", "–", "too few")


def _bounds(ci: Any) -> tuple[float | None, float | None]:
    if isinstance(ci, dict) and "low" in ci:
        return float(ci["low"]), float(ci["high"])
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and None not in ci:
        return float(ci[0]), float(ci[1])
    return None, None
