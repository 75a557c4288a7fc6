"""The one pixel value that hides a region of a model input, fixed from the training split.

Occlusion replaces the pixels it hides with a constant. Taken from the image
being hidden (its own mean, say), the constant would carry that image's
brightness, lungs included, into the pixels meant to say nothing; taken once
from the training split's model inputs, it is the same for every image and
every split, and says nothing about any one image's class. The evaluate stage
computes it and records it in ``metrics.json`` (``occlusion_fill``);
``bamnet evaluate`` reads it back from there, so an external dataset is hidden
with the value the run's own test split was.
"""

from __future__ import annotations

import numpy as np

from ..runs import folder as rf
from ..runs import layout
from ..runs.files import MetricsFile
from ..runs.metrics_file import OcclusionFill

HOW = "mean pixel of the training split's model inputs"


def training_fill(train: np.ndarray) -> dict[str, object] | None:
    """``{"value", "how", "images"}``: the mean pixel of ``train`` (n, h, w, c), the run's
    real training images as the model sees them; None when there are none."""
    if not len(train):
        return None
    return {"value": float(np.mean(train, dtype=np.float64)), "how": HOW,
            "images": int(len(train))}


def recorded_fill(run: rf.RunFolder) -> OcclusionFill | None:
    """The fill the run's evaluate stage recorded, or None (no ``metrics.json``, or one
    written before the fill was recorded).

    :raises RunError: ``metrics.json`` is there but damaged (never read as "no fill").
    """
    if not run.file(layout.METRICS).is_file():
        return None
    metrics = run.read_model(layout.METRICS, MetricsFile)
    return metrics.occlusion_fill
