"""A run that holds one source out tells its evaluators so.

With ``split.hold_out_source`` set (each run of ``bamnet loso``), the test split is
that source alone and nothing of it was trained on. The evaluators of the test
split receive its result in ``context.extra["held_out"]`` (source -> images,
positives, classes, accuracy, sensitivity, specificity, at the context's
threshold): an evaluator that judges held-out sources (the built-in
``per-source`` one, against its ``loso_floor``) then draws the run's
leave-one-source-out verdict line, and the run's verdict, report and model card
show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ..contract.decision import decide_indices
from ..contract.evaluation import EvaluationContext, SplitPredictions

HELD_OUT = "held_out"


def _share(hit: np.ndarray, of: np.ndarray) -> float | None:
    return round(float(hit[of].mean()), 4) if of.any() else None


def held_out_result(split: SplitPredictions, class_names: list[str] | tuple[str, ...],
                    positive_index: int, threshold: float) -> dict[str, Any]:
    """The held-out source's images, positives, classes and rates at ``threshold``."""
    decided = decide_indices(split.y_prob, positive_index, threshold)
    positive, called = split.y_true == positive_index, decided == positive_index
    return {"images": int(len(split.y_true)), "positives": int(positive.sum()),
            "classes": sorted({class_names[int(i)] for i in split.y_true}),
            "accuracy": _share(decided == split.y_true, np.ones(len(decided), dtype=bool)),
            "sensitivity": _share(called, positive), "specificity": _share(~called, ~positive)}


def held_out_context(context: Callable[..., EvaluationContext],
                     source: str | None) -> Callable[..., EvaluationContext]:
    """``context`` whose test split carries ``extra["held_out"]`` for ``source`` (unchanged
    when no source is held out)."""
    if not source:
        return context

    def of_split(**fields: Any) -> EvaluationContext:
        made = context(**fields)
        if made.split.name != "test":
            return made
        result = held_out_result(made.split, list(made.class_names), made.positive_index,
                                 made.threshold)
        return replace(made, extra={**made.extra, HELD_OUT: {source: result}})

    return of_split
