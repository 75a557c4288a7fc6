"""The decision threshold of the headline numbers, and the calibration fitted with it.

Both are chosen on the validation split, before any evaluator sees the split it
measures, and recorded in ``metrics.json`` (``threshold``, ``operating_point``):

- ``[evaluate] threshold = "youden"`` (the default): the cut-off that maximises
  sensitivity + specificity on validation (:func:`~bamnet_core.contract.youden_threshold`);
  ``"target-sensitivity"``: the highest cut-off reaching ``target_sensitivity``
  there; a number: used as given (the paper presets keep the paper's 0.5). Without
  a validation split holding both classes a rule cannot choose: 0.5 is used and the
  record says why.
- ``[evaluate] calibration = "platt"``: Platt scaling fitted on validation. It is
  strictly increasing, so it changes no decision and no ROC-AUC; evaluators see the
  calibrated probabilities and the threshold mapped with them, while
  ``metrics.json``'s ``threshold`` stays on the model's own output (what ``bamnet
  score`` applies to it).

``bamnet evaluate`` never chooses again: it reads the run's own operating point
(:func:`recorded`).
"""

from __future__ import annotations

import numpy as np

from ..config.schema import EvaluateSection
from ..contract.decision import threshold_for_sensitivity, youden_threshold
from ..contract.evaluation import SplitPredictions
from ..runs.metrics_file import Calibration, MetricsFile, OperatingPoint

FALLBACK = 0.5
_EDGE = 1e-7  # probabilities are clipped this far from 0 and 1 before a logit


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EDGE, 1 - _EDGE)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def calibrate(calibration: Calibration | None, probs: np.ndarray,
              positive_index: int) -> np.ndarray:
    """``probs`` with the positive column mapped through ``calibration`` and the other
    columns rescaled to fill the rest of each row (``probs`` itself when None)."""
    if calibration is None:
        return probs
    probs = np.asarray(probs, dtype=np.float64)
    p = probs[:, positive_index]
    q = _sigmoid(calibration.slope * _logit(p) + calibration.intercept)
    rest = 1.0 - p
    others = len(probs[0]) - 1 if len(probs) else 1
    scale = np.divide(1.0 - q, rest, out=np.zeros_like(q), where=rest > 0)
    out = probs * scale[:, None]
    out[rest <= 0] = ((1.0 - q[rest <= 0]) / max(others, 1))[:, None]
    out[:, positive_index] = q
    return out


def fit_platt(truth: np.ndarray, score: np.ndarray, fitted_on: str) -> Calibration | None:
    """Platt scaling of ``score`` against ``truth`` (None when a class is absent or the
    fitted slope is not positive: a map that reverses the ranking is no calibration)."""
    from sklearn.linear_model import LogisticRegression

    truth = np.asarray(truth, bool)
    if truth.all() or not truth.any():
        return None
    model = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(score)[:, None], truth)
    slope, intercept = float(model.coef_[0, 0]), float(model.intercept_[0])
    if not slope > 0:
        return None
    return Calibration(slope=slope, intercept=intercept, fitted_on=fitted_on)


def _raw_threshold(calibration: Calibration, calibrated: float) -> float:
    """The cut-off on the model's output that the calibrated ``calibrated`` stands for."""
    z = (float(_logit(calibrated)) - calibration.intercept) / calibration.slope
    return float(_sigmoid(np.float64(z)))


def choose(evaluate: EvaluateSection, validation: SplitPredictions | None,
           positive_index: int) -> tuple[float, OperatingPoint]:
    """The threshold on the model's output and how it was chosen, from ``[evaluate]``
    and the validation split's predictions (probabilities as the model gives them)."""
    rule = evaluate.threshold
    truth = score = None
    name = validation.name if validation is not None else None
    if validation is not None and len(validation.y_true):
        truth = validation.y_true == positive_index
        score = np.asarray(validation.y_prob, dtype=np.float64)[:, positive_index]
    calibration = None
    note = ""
    if evaluate.calibration == "platt":
        calibration = fit_platt(truth, score, name) if truth is not None else None
        note = "" if calibration else ("; Platt calibration not fitted: the validation split "
                                       "lacks a class or ranks the classes backwards")
    if isinstance(rule, float | int) and not isinstance(rule, bool):
        raw = _raw_threshold(calibration, float(rule)) if calibration else float(rule)
        point = OperatingPoint(rule="fixed", sentence=f"{float(rule):g}, fixed in the config"
                               + (" (on calibrated probabilities)" if calibration else ""))
    else:
        chosen = None
        if truth is not None:
            chosen = (youden_threshold(truth, score) if rule == "youden" else
                      threshold_for_sensitivity(truth, score, evaluate.target_sensitivity))
        words = ("Youden's J, the cut-off maximising sensitivity + specificity"
                 if rule == "youden" else
                 f"the highest cut-off reaching sensitivity {evaluate.target_sensitivity:g}")
        if chosen is None:
            raw = FALLBACK
            point = OperatingPoint(rule="fixed", sentence=f"{FALLBACK:g}: no validation split "
                                   f"with both classes to choose {rule!r} on")
        else:
            raw = chosen
            point = OperatingPoint(rule=rule, chosen_on=name,
                                   target_sensitivity=evaluate.target_sensitivity
                                   if rule == "target-sensitivity" else None,
                                   sentence=f"{chosen:.3f}, chosen on the {name} split ({words})")
    update: dict = {"sentence": point.sentence + note}
    if calibration is not None:
        update |= {"calibration": calibration,
                   "calibrated_threshold": float(_sigmoid(calibration.slope * _logit(raw)
                                                          + calibration.intercept))}
    return raw, point.model_copy(update=update)


def recorded(metrics: MetricsFile | None) -> tuple[float, OperatingPoint] | None:
    """The run's own threshold and operating point, as an external evaluation applies them
    (None when the run recorded no threshold)."""
    if metrics is None or metrics.threshold is None:
        return None
    own = metrics.operating_point
    sentence = (f"the run's own, {own.sentence}" if own else
                f"{metrics.threshold:g}, the run's own (its config's number)")
    return metrics.threshold, OperatingPoint(
        rule="run", chosen_on=own.chosen_on if own else None, sentence=sentence,
        calibration=own.calibration if own else None,
        calibrated_threshold=own.calibrated_threshold if own else None)


def evaluated_threshold(threshold: float | None, point: OperatingPoint | None) -> float:
    """The threshold on the probabilities the evaluators see (calibrated when the point
    carries a calibration; :data:`FALLBACK` when none was recorded)."""
    if point is not None and point.calibration is not None \
            and point.calibrated_threshold is not None:
        return point.calibrated_threshold
    return FALLBACK if threshold is None else threshold
