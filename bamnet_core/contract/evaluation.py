"""What an evaluator may see beyond predictions: :class:`EvaluationContext`, and patient bootstraps.

An evaluator offering the :class:`~.capabilities.EvaluatesInContext`
capability receives one :class:`EvaluationContext` per evaluated split: the
sample records (patient ids, sources), the preprocessed images, a predict
function, the model itself (for Grad-CAM), a folder for its figures and the
run's shared evaluation settings as typed fields (``bootstrap``,
``target_sensitivity``); an evaluator's own options are its factory's keyword
parameters (``[evaluate.options.<name>]``). The
validation split rides along, so an evaluator can choose an operating point on
validation and apply it to test.

:func:`patient_resamples` and :func:`percentile_interval` are the one
bootstrap: resample *patients* with replacement (all images of a drawn patient
come along), never single images, so one patient's many images cannot narrow an
interval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .sample import Sample


@dataclass(frozen=True)
class SplitPredictions:
    """One split's labels, predictions and provenance, row-aligned.

    :param name: ``"val"``, ``"test"`` or ``"external"``.
    :param y_true: integer class indices ``(n,)``.
    :param y_prob: class probabilities ``(n, k)``.
    :param samples: the :class:`Sample` of each row (patient id, source, path).
    :param images: the preprocessed model inputs ``(n, h, w, c)``, or None.
    :param lung_fields: each image's lung fields ``(n, h, w)`` (True inside the lungs),
        row-aligned with ``images``: from the run's lung-field estimator or the
        user's own masks, never from the label. None when not estimated.
    """

    name: str
    y_true: np.ndarray
    y_prob: np.ndarray
    samples: Sequence[Sample]
    images: np.ndarray | None = None
    lung_fields: np.ndarray | None = None

    @property
    def patients(self) -> np.ndarray:
        """The patient id of each row."""
        return np.array([s.patient_id for s in self.samples], dtype=object)

    @property
    def sources(self) -> np.ndarray:
        """The source of each row."""
        return np.array([s.source or "unknown" for s in self.samples], dtype=object)


@dataclass
class EvaluationContext:
    """Everything an in-context evaluator may use for one split.

    :param split: the split being evaluated.
    :param validation: the validation split (the one that chose the epoch);
        choose thresholds here and apply them to ``split``. None when absent.
    :param class_names: class names in index order.
    :param positive: the positive class.
    :param threshold: the run's positive-class cut-off, on the probabilities in ``split``
        (chosen on validation before any evaluator runs, or fixed in the config; mapped
        with them when ``[evaluate] calibration`` is on).
    :param bootstrap: patient-bootstrap resamples for 95% intervals (``[evaluate]
        bootstrap``; 0: no intervals).
    :param target_sensitivity: the sensitivity an operating threshold chosen on
        validation should reach (``[evaluate] target_sensitivity``).
    :param seed: seed for everything random (bootstraps, probes).
    :param figures_dir: a folder of the run folder this evaluator may write to
        (created on first use by the evaluator).
    :param predict: images ``(n, h, w, c)`` -> probabilities ``(n, k)``.
    :param features: images -> the classifier's penultimate features ``(n, d)``,
        or None when the model does not expose them.
    :param model: the Keras model, or None (scoring an exported model).
    :param gradcam_layer: the layer Grad-CAM reads, named by the backbone
        (:class:`~.capabilities.NamesGradCamLayer`); None lets the evaluator pick
        the last layer with a 4-D output.
    :param protocol: ``"patient"`` or ``"image"`` (leaky) split.
    :param fill: the one pixel value that hides a region of a model input (occlusion),
        fixed from the training split's images, never from the image being hidden;
        None when the run did not record it.
    """

    split: SplitPredictions
    class_names: Sequence[str]
    positive: str
    threshold: float
    seed: int
    figures_dir: Path
    predict: Callable[[np.ndarray], np.ndarray]
    validation: SplitPredictions | None = None
    features: Callable[[np.ndarray], np.ndarray] | None = None
    model: Any = None
    gradcam_layer: str | None = None
    protocol: str = "patient"
    bootstrap: int = 0
    target_sensitivity: float = 0.95
    fill: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def positive_index(self) -> int:
        """The column of the positive class."""
        return list(self.class_names).index(self.positive)


def patient_resamples(patients: Sequence[Any], n: int, seed: int) -> Iterator[np.ndarray]:
    """Yield ``n`` row-index arrays, each a bootstrap resample of *patients*.

    Each resample draws as many patients as there are, with replacement, and
    takes every row of each drawn patient (a patient drawn twice comes twice).
    """
    patients = np.asarray(patients, dtype=object)
    unique, inverse = np.unique(patients.astype(str), return_inverse=True)
    rows_of = [np.flatnonzero(inverse == i) for i in range(len(unique))]
    rng = np.random.default_rng(seed)
    for _ in range(n):
        drawn = rng.integers(0, len(unique), size=len(unique))
        yield np.concatenate([rows_of[i] for i in drawn]) if len(drawn) else np.zeros(0, int)


def percentile_interval(values: Sequence[float | None], level: float = 0.95
                        ) -> dict[str, float | int] | None:
    """The percentile interval of bootstrap values (None values, undefined metrics, dropped).

    :returns: ``{"low", "high", "level", "resamples"}`` or None when no value is defined.
    """
    kept = np.array([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if not len(kept):
        return None
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(kept, [tail, 100 - tail])
    return {"low": float(low), "high": float(high), "level": level, "resamples": int(len(kept))}


def bootstrap_metrics(metric_fn: Callable[[np.ndarray], Mapping[str, Any]],
                      patients: Sequence[Any], n: int, seed: int,
                      level: float = 0.95) -> dict[str, dict[str, float | int]]:
    """Patient-bootstrap intervals of every top-level numeric value ``metric_fn`` returns.

    :param metric_fn: row indices -> metrics computed on those rows.
    :returns: metric name -> :func:`percentile_interval` (metrics never defined are left out).
    """
    draws: dict[str, list[float | None]] = {}
    for rows in patient_resamples(patients, n, seed):
        for key, value in metric_fn(rows).items():
            if value is None or (isinstance(value, int | float | np.number)
                                 and not isinstance(value, bool)):
                draws.setdefault(key, []).append(None if value is None else float(value))
    out = {}
    for key, values in draws.items():
        interval = percentile_interval(values, level)
        if interval is not None:
            out[key] = interval
    return out
