"""The parity gate: an exported model must agree with the Keras model it came from.

Keras sees validation images preprocessed with the run's ``preprocess.json``;
the ONNX side goes through :class:`bamnet_core.score.scorer.Scorer` on the same
files, so it decodes and preprocesses from the spec embedded in the model
file, exactly as ``bamnet score`` will. A wrong graph and a wrong embedded
preprocessing both fail here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BamnetError


class ParityError(BamnetError):
    """The exported model disagrees with the Keras model; nothing was written."""


@dataclass
class ParityResult:
    """How closely two models agree on the same images."""

    images: int
    max_abs_diff: float
    mismatched_labels: int
    tolerance: float
    mismatched_paths: list[str]
    #: the candidate's probabilities, one row per image (kept out of the report)
    probabilities: np.ndarray | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """Within tolerance, and the same label wherever the reference is farther than
        the tolerance from the decision boundary."""
        return self.max_abs_diff <= self.tolerance and self.mismatched_labels == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``export-report.json``."""
        return {"images": self.images, "max_abs_diff": self.max_abs_diff,
                "mismatched_labels": self.mismatched_labels,
                "tolerance": self.tolerance if np.isfinite(self.tolerance) else None,
                "passed": self.passed, "mismatched_paths": self.mismatched_paths[:20]}


def decision_margin(probs: np.ndarray, positive_index: int, threshold: float) -> np.ndarray:
    """How far each row of ``probs`` is from changing its label under the decision rule.

    The distance of the positive-class probability from ``threshold``; for a
    row called negative among three or more classes, also the gap between the
    two most probable other classes, whichever is smaller.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if not probs.size:
        return np.zeros(0)
    margin = np.abs(probs[:, positive_index] - threshold)
    others = np.delete(probs, positive_index, axis=1)
    if others.shape[1] >= 2:
        top = np.sort(others, axis=1)
        gap = (top[:, -1] - top[:, -2]) / 2  # each of the two may move by the tolerance
        negative = probs[:, positive_index] < threshold
        margin = np.where(negative, np.minimum(margin, gap), margin)
    return margin


def compare(reference: np.ndarray, candidate: np.ndarray, ref_labels: Sequence[str],
            cand_labels: Sequence[str], paths: Sequence[str], tolerance: float,
            margin: np.ndarray | None = None) -> ParityResult:
    """Compare two probability arrays and their labels, image by image.

    :param margin: each reference row's :func:`decision_margin`; a label flip
        counts only where it exceeds ``tolerance`` (a flip within tolerance of
        the threshold is a rounding difference, and the max |diff| catches it).
        None counts every flip.
    """
    diff = np.abs(np.asarray(reference, np.float64) - np.asarray(candidate, np.float64))
    per_image = diff.max(axis=1) if diff.size else np.zeros(0)
    decisive = np.ones(len(paths), bool) if margin is None else np.asarray(margin) > tolerance
    flipped = [a != b and bool(d) for a, b, d in zip(ref_labels, cand_labels, decisive,
                                                       strict=True)]
    bad = [p for p, d, f in zip(paths, per_image, flipped, strict=True) if d > tolerance or f]
    return ParityResult(images=len(paths), max_abs_diff=float(per_image.max(initial=0.0)),
                        mismatched_labels=sum(flipped), tolerance=tolerance,
                        mismatched_paths=bad)


def check_parity(keras_probs: np.ndarray, scorer: Any, paths: Sequence[str], *,
                 tolerance: float, what: str = "ONNX model",
                 enforce: bool = True, batch_size: int = 8) -> ParityResult:
    """Score ``paths`` with ``scorer`` and compare with ``keras_probs`` (same order).

    :param enforce: raise when the models disagree (else just report).
    :param batch_size: images per inference; small, so that a large model's activations
        stay small (VGG16 at 224x224 needs about 100 MB per image and layer).
    :raises ParityError: naming the worst difference and a mismatched file.
    """
    from ..score.scorer import decide

    records = scorer.score_paths(paths, batch_size=batch_size)
    failed = [r for r in records if r.error]
    if failed:
        raise ParityError(f"{what} could not score {failed[0].path}: {failed[0].error}",
                          hint="the embedded preprocessing differs from the run's")
    candidate = np.array([[r.probabilities[c] for c in scorer.classes] for r in records])
    ref_labels = decide(keras_probs, scorer.classes, scorer.info.positive, scorer.threshold)
    margin = decision_margin(keras_probs, list(scorer.classes).index(scorer.info.positive),
                             scorer.threshold)
    result = compare(keras_probs, candidate, ref_labels, [r.label for r in records],
                     [str(p) for p in paths], tolerance, margin)
    result.probabilities = candidate
    if enforce and not result.passed:
        example = result.mismatched_paths[0] if result.mismatched_paths else "?"
        raise ParityError(
            f"{what} disagrees with the Keras model on {len(result.mismatched_paths)} of "
            f"{result.images} validation images (max |diff| {result.max_abs_diff:.3g} > "
            f"{tolerance:g}, {result.mismatched_labels} different labels; e.g. "
            f"{Path(example).name}); no file was written",
            hint="report it with the run folder; try another --opset")
    return result
