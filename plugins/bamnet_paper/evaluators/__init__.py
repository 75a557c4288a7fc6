"""Built-in evaluators, one module each.

- ``classification``: accuracy, sensitivity, specificity, PPV, NPV, F1, the
  confusion matrix and the classification report (:mod:`.classification`); the
  split's headline numbers (whether the model learned is the core's reading);
- ``roc``: ROC and PR curves and areas with patient-bootstrap bands, and an
  operating threshold chosen on validation (:mod:`.roc`);
- ``calibration``: reliability curve, expected calibration error, Brier score
  (:mod:`.calibration`);
- ``gradcam``: Grad-CAM overlays, every misclassified image included (:mod:`.gradcam`);
- shortcut probes: ``per-source`` results (:mod:`.per_source`), ``source-probe``,
  a linear model predicting the source from penultimate features
  (:mod:`.source_probe`), and ``occlusion``, scores with the lung fields masked
  (:mod:`.occlusion`); each brings its verdict line, under the rules in its own
  options.

Each is registered with ``default=True``: a config without ``[evaluate]
evaluators`` runs all of them.
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
    """Register the built-in evaluators, each on by default, in the order a run uses them."""
    register("classification", ClassificationEvaluator, default=True)
    register("roc", RocEvaluator, default=True)
    register("calibration", CalibrationEvaluator, default=True)
    register("per-source", PerSourceEvaluator, default=True)
    register("source-probe", SourceProbeEvaluator, default=True)
    register("occlusion", OcclusionEvaluator, default=True)
    register("gradcam", GradCamEvaluator, default=True)
