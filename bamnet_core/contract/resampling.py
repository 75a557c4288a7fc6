"""The patient bootstrap as one matrix: every resample at once, every metric from it.

:func:`patient_weights` gives, for ``n`` resamples, how many times each row is
drawn (a patient drawn twice brings each of its rows twice), from exactly the
draws :func:`~.evaluation.patient_resamples` makes with the same seed. A metric
that is a ratio of weighted sums (accuracy, sensitivity, ROC AUC from weighted
cumulative counts, the Brier score) is then one matrix product over all
resamples instead of a Python call per resample: :func:`bootstrap_weighted`
gives the same intervals as :func:`~.evaluation.bootstrap_metrics`, up to
floating-point rounding, in a fraction of the time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .evaluation import percentile_interval

#: Resample-by-row cells held at once (int32): about 16 MiB per block.
BLOCK_CELLS = 1 << 22


def patient_index(patients: Sequence[Any]) -> tuple[int, np.ndarray]:
    """The number of distinct patients and each row's patient number (sorted by id text)."""
    unique, inverse = np.unique(np.asarray(patients, dtype=object).astype(str),
                                return_inverse=True)
    return len(unique), inverse.reshape(-1)


def weight_blocks(patients: Sequence[Any], n: int, seed: int,
                  block_cells: int = BLOCK_CELLS) -> Iterator[np.ndarray]:
    """The ``(n, rows)`` weights of :func:`patient_weights` in blocks of resamples.

    Memory stays under ``block_cells`` cells whatever the split's size; the
    draws are those of one ``(n, patients)`` draw (a generator's stream does not
    depend on how the draws are blocked).
    """
    count, inverse = patient_index(patients)
    rng = np.random.default_rng(seed)
    step = max(1, block_cells // max(len(inverse), count, 1))
    for start in range(0, n, step):
        size = min(step, n - start)
        drawn = rng.integers(0, count, size=(size, count)) if count else \
            np.zeros((size, 0), dtype=np.int64)
        offsets = drawn + (np.arange(size) * count)[:, None]
        per_patient = np.bincount(offsets.ravel(), minlength=size * count).reshape(size, count)
        yield per_patient.astype(np.int32)[:, inverse]


def patient_weights(patients: Sequence[Any], n: int, seed: int) -> np.ndarray:
    """``(n, rows)`` int32: how many times each row is in each of ``n`` patient resamples.

    Row ``b`` of the result weights the rows as ``patient_resamples(patients, n,
    seed)``'s ``b``-th index array repeats them.
    """
    blocks = list(weight_blocks(patients, n, seed))
    return np.concatenate(blocks) if blocks else np.zeros((0, len(patients)), np.int32)


def bootstrap_weighted(metric_fn: Callable[[np.ndarray], Mapping[str, np.ndarray]],
                       patients: Sequence[Any], n: int, seed: int, level: float = 0.95
                       ) -> dict[str, dict[str, float | int]]:
    """Patient-bootstrap intervals of every metric ``metric_fn`` computes from weights.

    :param metric_fn: a ``(resamples, rows)`` weight block -> metric name ->
        ``(resamples,)`` values, NaN where the metric is undefined on a resample.
    :returns: metric name -> :func:`~.evaluation.percentile_interval`, as
        :func:`~.evaluation.bootstrap_metrics` gives (metrics never defined left out).
    """
    draws: dict[str, list[np.ndarray]] = {}
    for weights in weight_blocks(patients, n, seed):
        for key, values in metric_fn(weights).items():
            draws.setdefault(key, []).append(np.asarray(values, dtype=float).reshape(-1))
    out = {}
    for key, parts in draws.items():
        values = np.concatenate(parts)
        interval = percentile_interval(values[np.isfinite(values)].tolist(), level)
        if interval is not None:
            out[key] = interval
    return out

