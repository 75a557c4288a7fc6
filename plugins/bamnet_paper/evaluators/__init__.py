"""Built-in evaluators, one module each.

- ``classification``: accuracy, sensitivity, specificity, PPV, NPV, F1, the
  confusion matrix and the classification report (:mod:`.classification`);
- ``roc``: ROC and PR curves and areas with patient-bootstrap bands, and an
  operating threshold chosen on validation (:mod:`.roc`);
- ``calibration``: reliability curve, expected calibration error, Brier score
  (:mod:`.calibration`);
- ``gradcam``: Grad-CAM overlays, every misclassified image included (:mod:`.gradcam`);
- shortcut probes: ``per-source`` results (:mod:`.per_source`), ``source-probe``,
  a linear model predicting the source from penultimate features
  (:mod:`.source_probe`), and ``occlusion``, scores with the lung fields masked
  (:mod:`.occlusion`).
"""

from __future__ import annotations

from bamnet_core.contract import hookimpl

from .calibration import CalibrationEvaluator
from .classification import ClassificationEvaluator
from .gradcam import GradCamEvaluator
from .occlusion import OcclusionEvaluator
from .per_source import PerSourceEvaluator
from .roc import RocEvaluator
from .source_probe import SourceProbeEvaluator

__all__ = ["CalibrationEvaluator", "ClassificationEvaluator", "GradCamEvaluator",
           "OcclusionEvaluator", "PerSourceEvaluator", "RocEvaluator", "SourceProbeEvaluator"]


@hookimpl
def register_evaluators(register):
    """Register the built-in evaluators."""
    register("classification", ClassificationEvaluator)
    register("roc", RocEvaluator)
    register("calibration", CalibrationEvaluator)
    register("gradcam", GradCamEvaluator)
    register("per-source", PerSourceEvaluator)
    register("source-probe", SourceProbeEvaluator)
    register("occlusion", OcclusionEvaluator)
