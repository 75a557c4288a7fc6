"""The public plugin API: everything a bamnet plugin may import, in one place.

Plugins, the built-in ones included, import from ``bamnet_core.contract`` and
nothing else of bamnet's (an import-linter contract checks this for the
built-ins). Names not listed in ``__all__`` are internal and may change.

- Hooks: :data:`hookimpl` marks implementations of the hooks in
  :mod:`bamnet_core.contract.hookspecs`; each registry hook receives a
  :class:`Register` callback.
- Records and protocols: :class:`Sample`; one protocol per component kind
  (:class:`DatasetSource`, :class:`Generator`, :class:`Backbone`,
  :class:`LungFieldEstimator`, and
  :data:`Evaluator`, one of its variants :class:`PlainEvaluator`,
  :class:`ContextEvaluator` (with :class:`EvaluationContext` and
  :class:`SplitPredictions`) and :class:`SyntheticAssessor`, told apart by
  :func:`evaluator_variant`; ``EvaluatesInContext`` and ``AssessesSynthetic``
  are their former names); :data:`KINDS`, the table of kinds.
- Optional capabilities a component may offer: :class:`Detectable`,
  :class:`Downloadable`, :class:`HasNotes`, :class:`ChecksPreprocess`, :class:`NeedsFiles`,
  :class:`SplitBackbone`, :class:`FineTunable`, :class:`NamesGradCamLayer`,
  :class:`StatesPopulation`.
- Evidence: an evaluator may return :class:`Findings` (results, :class:`EvidenceLine`
  verdict lines, a :class:`Headline` of :class:`HeadlineMetric` rows with their
  :class:`Estimate` and :class:`Counts`) instead of a dict; :func:`number_text`,
  :func:`interval_text` and :func:`low_end` format a line's number as the verdict does;
  :func:`wilson` is the interval of a proportion.
- Helpers: :func:`compose`, :func:`decide_indices` (and the cut-off rules
  :func:`youden_threshold`, :func:`threshold_for_sensitivity`), :class:`PreprocessSpec`,
  :data:`IMAGE_SUFFIXES`, :func:`is_dicom`, :func:`read_dicom_identity` (the
  identifying and descriptive tags of a DICOM header, in memory only),
  :func:`pseudonym` (keyed pseudonyms for identifiers), :class:`DatasetDownload`, :func:`cache_dir`,
  :func:`fingerprint`, :func:`atomic_path`; room on disk before a large write:
  :func:`ensure_room`, :func:`model_bytes`, :func:`write_file`, :func:`figure_png`
  (a full disk is then one :class:`DiskFullError` naming the folder, never a crash);
  :func:`forward_flops` and :func:`images_within`
  (a model's cost per image, to size extra passes); the patient bootstrap:
  :func:`patient_resamples`, :func:`percentile_interval`, :func:`bootstrap_metrics`, and
  its one-matrix form for speed: :func:`patient_weights`, :func:`bootstrap_weighted`;
  :class:`ProgressEvent`, :data:`ProgressCallback` and :func:`silent` (the default
  callback, which ignores events), for components that report progress (a
  generator's ``fit`` and ``generate``).
- Errors: raise :class:`ConfigError` for a bad option and :class:`DataError`
  for bad or missing data, each with a ``hint``; anything else a plugin raises
  is reported as a fault of that plugin.
"""

from __future__ import annotations

from .._util.atomic import atomic_path
from .._util.cachedir import cache_dir, fingerprint
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..errors import (
    BamnetError,
    ConfigError,
    DataError,
    DiskFullError,
    ImageDecodeError,
    PluginError,
)
from ..imaging.dicom_tags import read_identity as read_dicom_identity
from ..imaging.formats import IMAGE_SUFFIXES, is_dicom
from ..imaging.preprocess import PreprocessSpec
from .capabilities import (
    CAPABILITIES,
    ChecksPreprocess,
    Detectable,
    Downloadable,
    FineTunable,
    HasNotes,
    NamesGradCamLayer,
    NeedsFiles,
    SplitBackbone,
    StatesPopulation,
)
from .decision import decide_indices, threshold_for_sensitivity, youden_threshold
from .download import DatasetDownload
from .evaluation import (
    EvaluationContext,
    SplitPredictions,
    bootstrap_metrics,
    patient_resamples,
    percentile_interval,
)
from .evidence import (
    Counts,
    Estimate,
    EvidenceLine,
    Findings,
    Headline,
    HeadlineMetric,
    interval_text,
    low_end,
    number_text,
    wilson,
)
from .hookspecs import Register, hookimpl
from .kinds import KINDS, ComponentKind
from .model_cost import forward_flops, images_within
from .protocols import (
    AssessesSynthetic,
    Backbone,
    ContextEvaluator,
    DatasetSource,
    EvaluatesInContext,
    Evaluator,
    Generator,
    LungFieldEstimator,
    PlainEvaluator,
    SyntheticAssessor,
    compose,
    evaluator_variant,
)
from .pseudonyms import pseudonym
from .resampling import bootstrap_weighted, patient_weights
from .sample import Sample, iter_samples
from .storage import RESERVE, ensure_room, figure_png, model_bytes, write_file

__all__ = [
    "Counts",
    "Estimate",
    "EvidenceLine",
    "Findings",
    "Headline",
    "HeadlineMetric",
    "interval_text",
    "low_end",
    "number_text",
    "wilson",
    "forward_flops",
    "images_within",
    "CAPABILITIES",
    "AssessesSynthetic",
    "IMAGE_SUFFIXES",
    "KINDS",
    "Backbone",
    "BamnetError",
    "ChecksPreprocess",
    "NeedsFiles",
    "ComponentKind",
    "ContextEvaluator",
    "ConfigError",
    "DataError",
    "DatasetDownload",
    "DatasetSource",
    "DiskFullError",
    "EvaluatesInContext",
    "EvaluationContext",
    "Detectable",
    "Downloadable",
    "Evaluator",
    "FineTunable",
    "Generator",
    "HasNotes",
    "LungFieldEstimator",
    "NamesGradCamLayer",
    "ImageDecodeError",
    "PlainEvaluator",
    "PluginError",
    "PreprocessSpec",
    "RESERVE",
    "ProgressCallback",
    "ProgressEvent",
    "Register",
    "Sample",
    "SplitBackbone",
    "SplitPredictions",
    "StatesPopulation",
    "SyntheticAssessor",
    "atomic_path",
    "bootstrap_metrics",
    "bootstrap_weighted",
    "cache_dir",
    "compose",
    "decide_indices",
    "ensure_room",
    "evaluator_variant",
    "figure_png",
    "fingerprint",
    "hookimpl",
    "is_dicom",
    "iter_samples",
    "model_bytes",
    "patient_resamples",
    "patient_weights",
    "percentile_interval",
    "pseudonym",
    "read_dicom_identity",
    "silent",
    "threshold_for_sensitivity",
    "youden_threshold",
    "write_file",
]
