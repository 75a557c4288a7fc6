"""The evaluate stage: every configured evaluator on the validation and test predictions.

Evaluators are plugin code, so each is contained: one that raises, or returns
something JSON cannot hold, gets its error recorded in ``metrics.json`` and the
others still run. Results are converted to plain JSON types at this boundary
(numpy scalars and arrays included); nothing is turned into a string silently.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, ProgressEvent
from ..config.resolved import Config
from ..contract.protocols import Evaluator
from ..errors import BamnetError, PluginFault


class EvaluatorsFailed(BamnetError):
    """Some evaluators failed; ``metrics.json`` holds the others' results and the errors."""

    exit_code = 4


class NotJSON(ValueError):
    """A value an evaluator returned cannot be written as JSON."""


def plain_json(value: Any, where: str = "result") -> Any:
    """``value`` as plain JSON types: dict (str keys), list, str, int, float, bool, None.

    numpy scalars become Python scalars and arrays become lists.

    :raises NotJSON: naming the place (``result.counts.tp``) of a NaN, an
        infinity, a non-string key or any other object.
    """
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJSON(f"{where} is {value!r}, which JSON cannot hold (return None for an "
                          "undefined metric)")
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJSON(f"{where} has the key {key!r}, which is not a string")
            out[key] = plain_json(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [plain_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise NotJSON(f"{where} is a {type(value).__name__}, which JSON cannot hold")


def evaluate_splits(config: Config, predictions: dict[str, tuple[np.ndarray, np.ndarray]],
                    progress: ProgressCallback) -> dict[str, Any]:
    """Metrics per split: ``{"classes", "positive", "threshold", "splits": {name: ...}}``.

    A failed evaluator's entry is ``{"error": "..."}`` and the failure is listed
    under ``"evaluator_errors"`` (absent when all succeeded).

    :param predictions: split name -> (true class indices, class probabilities).
    """
    evaluate = config["evaluate"]
    classes = config["data"]["classes"]
    positive = config["data"]["positive"]
    metrics: dict[str, Any] = {"classes": classes, "positive": positive,
                               "threshold": evaluate["threshold"], "splits": {}}
    errors: list[dict[str, str]] = []
    for name, (y_true, probs) in predictions.items():
        progress(ProgressEvent("evaluate", 0, None, f"evaluate {name}"))
        results: dict[str, Any] = {"images": len(probs)}
        for ev_name, evaluator in config.components.evaluators.items():
            if not isinstance(evaluator, Evaluator):
                continue  # an AssessesSynthetic evaluator: it runs once, after training
            reg = config.components.registrations[f"evaluate.{ev_name}"]
            try:
                raw = evaluator.evaluate(y_true, probs, class_names=classes,
                                         positive=positive, threshold=evaluate["threshold"])
                if not isinstance(raw, dict):
                    raise NotJSON(f"result is a {type(raw).__name__}, not a dict")
                results[ev_name] = plain_json(raw)
            except NotJSON as exc:
                message = f"{reg.label} from plugin {reg.distribution!r} returned bad " \
                          f"results: {exc}"
                results[ev_name] = {"error": message}
                errors.append({"split": name, "evaluator": ev_name, "error": message})
            except (PluginFault, BamnetError) as exc:
                results[ev_name] = {"error": exc.message}
                errors.append({"split": name, "evaluator": ev_name, "error": exc.message})
        metrics["splits"][name] = results
    if errors:
        metrics["evaluator_errors"] = errors
    return metrics
