"""The evaluate stage: every configured evaluator on the validation and test predictions.

The test split gives the headline numbers when there is one; validation chose
the epoch and is handed to in-context evaluators so they choose thresholds there.

An evaluator returns a dict of results or :class:`~bamnet_core.contract.Findings`
(results, verdict lines, headline numbers); each split keeps them apart, by
evaluator name. Evaluators are plugin code, so each is contained: one that
raises, or returns something JSON cannot hold or a Findings that does not
validate, gets its error recorded in ``metrics.json`` and the others still run.
Results are converted to plain JSON types at this boundary (numpy scalars and
arrays included); nothing is turned into a string silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from .._util.progress import ProgressCallback, ProgressEvent
from ..config.resolved import Config
from ..contract.evaluation import EvaluationContext, SplitPredictions, bootstrap_metrics
from ..contract.evidence import Findings
from ..contract.protocols import evaluator_variant
from ..errors import BamnetError


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


def headline_split(names: list[str]) -> dict[str, str]:
    """Which split gives the headline numbers, and what that means."""
    if "test" in names:
        return {"split": "test", "note": "held-out test split; validation chose the epoch and "
                "the operating threshold"}
    if "external" in names:
        return {"split": "external", "note": "external data the model never saw"}
    return {"split": "val", "note": "validation only: the same split chose the epoch, so "
            "these numbers are optimistic"}


def _plain_call(evaluator: Any, split: SplitPredictions, config: Config,
                seed: int, threshold: float) -> Any:
    """A plain evaluator's result, with patient-bootstrap intervals of its numbers."""
    kwargs = {"class_names": config.data.classes, "positive": config.data.positive,
              "threshold": threshold}
    raw = evaluator.evaluate(split.y_true, split.y_prob, **kwargs)
    resamples = config.evaluate.bootstrap
    if isinstance(raw, dict) and resamples and len(split.y_true) and "intervals" not in raw:
        raw = {**raw, "intervals": bootstrap_metrics(
            lambda rows: evaluator.evaluate(split.y_true[rows], split.y_prob[rows], **kwargs),
            split.patients, resamples, seed)}
    return raw


def findings_of(raw: Any) -> Findings:
    """What an evaluator returned, as validated :class:`Findings` of plain JSON types.

    A plain dict is results only (no verdict line, no headline).

    :raises NotJSON: for anything but a dict or a :class:`Findings`, a Findings that
        does not validate, or a value JSON cannot hold (naming where it is).
    """
    if isinstance(raw, dict):
        return Findings(results=plain_json(raw))
    if not isinstance(raw, Findings):
        raise NotJSON(f"result is a {type(raw).__name__}, not a dict or Findings")
    dumped = plain_json(raw.model_dump(), "findings")
    try:  # a Findings made with model_construct, or changed after it was made
        return Findings.model_validate(dumped)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise NotJSON(f"findings.{where}: {problem['msg']}") from None


def _split_entry(split: SplitPredictions) -> dict[str, Any]:
    """One split's entry of ``metrics.json`` before its evaluators run."""
    return {"images": len(split.y_true), "patients": len(set(split.patients.tolist())),
            "evaluators": {}, "evidence": {}, "headline": None, "headline_from": None}


def store_findings(entry: dict[str, Any], name: str, findings: Findings) -> None:
    """Store one evaluator's findings in its split's entry; the first headline given wins."""
    entry["evaluators"][name] = findings.results
    if findings.evidence:
        entry["evidence"][name] = [line.model_dump(mode="json") for line in findings.evidence]
    if findings.headline is not None and entry["headline"] is None:
        entry["headline"] = findings.headline.model_dump(mode="json")
        entry["headline_from"] = name


def evaluate_splits(config: Config, splits: dict[str, SplitPredictions],
                    context: Callable[..., EvaluationContext],
                    progress: ProgressCallback,
                    validation: SplitPredictions | None = None, *,
                    threshold: float) -> dict[str, Any]:
    """Metrics per split: ``{"classes", "positive", "threshold", "headline", "splits": {...}}``.

    Evaluators offering ``evaluate_context`` get an :class:`EvaluationContext`;
    the others get ``evaluate(y_true, y_prob, ...)`` and the core adds
    patient-bootstrap intervals of their numbers (:func:`evaluator_variant`).
    Each split's entry holds ``images``, ``patients``, ``evaluators`` (results
    by evaluator name), ``evidence`` (verdict lines by evaluator name),
    ``headline`` and ``headline_from`` (the first evaluator, in configured
    order, that gave a :class:`~bamnet_core.contract.Headline`). A failed
    evaluator's results are ``{"error": "..."}`` and the failure is listed
    under ``"evaluator_errors"`` (absent when all succeeded).

    :param splits: split name -> predictions with sample records, in report order
        (``val`` first: it is also every other split's ``validation``).
    :param context: the :class:`EvaluationContext` of a split from its ``split``
        and ``validation``, every other field given (a ``functools.partial``).
    :param validation: the split that chose the threshold when ``splits`` has no ``val``
        (the run's own, for an external evaluation); it is not evaluated again.
    :param threshold: the decision threshold every evaluator applies (chosen on
        validation before this is called: :mod:`.operating_point`).
    """
    seed = config.run.seed
    metrics: dict[str, Any] = {"classes": config.data.classes, "positive": config.data.positive,
                               "threshold": threshold,
                               "headline": headline_split(list(splits)),
                               "splits": {}}
    errors: list[dict[str, str]] = []
    validation = splits.get("val", validation)
    # an evaluator that only assesses synthetic images runs once, after training, not per split
    evaluators = {n: e for n, e in config.components.evaluators.items()
                  if evaluator_variant(e) is not None}
    for name, split in splits.items():
        shared = context(split=split, validation=validation if name != "val" else None)
        entry = _split_entry(split)
        for step, (ev_name, evaluator) in enumerate(evaluators.items()):
            progress(ProgressEvent("evaluate", step, len(evaluators), f"evaluate {name}: "
                                   f"{ev_name}"))
            reg = config.components.registrations[f"evaluate.{ev_name}"]
            try:
                if evaluator_variant(evaluator) == "context":  # each its own copy of extra
                    raw = evaluator.evaluate_context(replace(shared, extra=dict(shared.extra)))
                else:
                    raw = _plain_call(evaluator, split, config, seed, threshold)
                store_findings(entry, ev_name, findings_of(raw))
            except NotJSON as exc:
                message = f"{reg.label} from plugin {reg.distribution!r} returned bad " \
                          f"results: {exc}"
                entry["evaluators"][ev_name] = {"error": message}
                errors.append({"split": name, "evaluator": ev_name, "error": message})
            except BamnetError as exc:  # a PluginFault too: contained by the fault boundary
                entry["evaluators"][ev_name] = {"error": exc.message}
                errors.append({"split": name, "evaluator": ev_name, "error": exc.message})
        progress(ProgressEvent("evaluate", len(evaluators), len(evaluators), f"evaluate {name}"))
        metrics["splits"][name] = entry
    if errors:
        metrics["evaluator_errors"] = errors
    return metrics
