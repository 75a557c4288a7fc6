"""What each component kind must do: one :class:`typing.Protocol` per kind.

A plugin's factories return objects satisfying these protocols. The core
never imports a concrete implementation; it calls through these methods.
An evaluator comes in variants (:data:`Evaluator`: plain, in context, or
assessing synthetic images), declared here once; a split's evaluation returns
a dict of results or :class:`~.evidence.Findings` (results, verdict lines,
headline numbers). Optional extras a component
may offer are in :mod:`.capabilities`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._util.progress import ProgressCallback, silent
from .sample import Sample

if TYPE_CHECKING:  # keras is heavy; only type checkers import it here
    import keras
    import numpy as np

    from ..imaging.preprocess import PreprocessSpec
    from .evaluation import EvaluationContext
    from .evidence import Findings


@runtime_checkable
class DatasetSource(Protocol):
    """Yields the samples of a dataset."""

    def samples(self) -> Iterable[Sample]:
        """Return every sample of the dataset, in a stable order.

        Raise :class:`bamnet_core.errors.DataError` (with a hint) when the data
        is missing or malformed; any other exception is reported as a fault of
        the plugin.
        """
        ...


@runtime_checkable
class Generator(Protocol):
    """Learns from real images of one class and synthesises more of them."""

    def fit(self, samples: Sequence[Sample], *, workdir: Path, seed: int,
            progress: ProgressCallback = silent) -> None:
        """Train on ``samples`` (training split only), writing artefacts to ``workdir``.

        :param samples: real training images of the class to synthesise.
        :param workdir: a folder of the run folder the generator owns.
        :param seed: seed for everything random.
        :param progress: called with :class:`~bamnet_core.contract.ProgressEvent`
            ``("generator", done, total, ...)`` as training goes; ignores events by default.
        """
        ...

    def generate(self, count: int, *, label: str, outdir: Path, seed: int,
                 progress: ProgressCallback = silent) -> list[Sample]:
        """Write ``count`` images to ``outdir`` and return them as synthetic samples.

        Each returned :class:`Sample` has ``synthetic=True`` and ``label`` as its label.

        :param progress: as for :meth:`fit`, called as images are written.
        """
        ...


@runtime_checkable
class Backbone(Protocol):
    """Builds the image classifier: a Keras model from preprocessed images to class scores."""

    def build(self, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
        """Return an uncompiled Keras model mapping images to class probabilities.

        :param input_shape: ``(size, size, channels)`` from ``[preprocess]``.
        :param num_classes: length of ``[data] classes``; the output is a softmax
            over them, in that order, and should be float32 (see mixed precision).
        """
        ...


@runtime_checkable
class PlainEvaluator(Protocol):
    """An evaluator that turns predictions on a split into metrics."""

    def evaluate(
        self,
        y_true: np.ndarray,
        y_prob: np.ndarray,
        *,
        class_names: Sequence[str],
        positive: str,
        threshold: float,
    ) -> dict[str, Any] | Findings:
        """Return metrics as a JSON-ready dict, or as :class:`~.evidence.Findings` (the
        same results plus verdict lines and the split's headline numbers).

        A dict gets patient-bootstrap ``intervals`` of its top-level numbers from the
        core; a :class:`~.evidence.Findings` is stored as it is.

        :param y_true: integer class indices, shape ``(n,)``, dtype int64.
        :param y_prob: class probabilities, shape ``(n, len(class_names))``, float32.
        :param class_names: the class names, in index order.
        :param positive: the positive class (sensitivity is measured on it).
        :param threshold: a sample is called positive when its positive-class
            probability is at least this (:func:`bamnet_core.contract.decide_indices`).
        """
        ...


@runtime_checkable
class ContextEvaluator(Protocol):
    """An evaluator that needs more than predictions: patients, sources, images, the model.

    The core calls ``evaluate_context`` once per evaluated split, instead of
    ``evaluate`` when an evaluator offers both. Used for patient-bootstrap
    intervals, thresholds chosen on validation, Grad-CAM and shortcut probes.
    """

    def evaluate_context(self, context: EvaluationContext) -> dict[str, Any] | Findings:
        """Results for ``context.split``; figures go to ``context.figures_dir``.

        Return a JSON-ready dict (results only), or :class:`~.evidence.Findings`:
        the results, the verdict lines they support (each
        :class:`~.evidence.EvidenceLine` with its level, number, interval and the
        rule it was held to, the rule coming from this evaluator's own options) and,
        from the evaluator that measures them, the split's headline numbers
        (:class:`~.evidence.Headline`). ``metrics.json`` keeps each split's results,
        lines and headline by evaluator name; the verdict counts the lines of every
        evaluator on the headline split. A Findings that does not validate is this
        evaluator's error, and the others still run.
        """
        ...


@runtime_checkable
class SyntheticAssessor(Protocol):
    """An evaluator that judges a generator's images against the real ones it learnt from.

    Listed in ``[evaluate] evaluators`` like any evaluator, it runs once per run
    after training (not once per split), when the generator made images, and
    its result lands in ``metrics.json`` under ``gan_quality``.
    """

    def assess(self, real: np.ndarray, synthetic: np.ndarray, *,
               embed: Callable[[np.ndarray], np.ndarray], space: str, spec: PreprocessSpec,
               real_paths: Sequence[str], synthetic_paths: Sequence[str],
               outdir: Path) -> dict[str, Any]:
        """Compare ``synthetic`` with ``real`` and return JSON-ready results.

        :param real: the real training images of the balanced class, preprocessed
            as the classifier saw them, ``(n, size, size, channels)``.
        :param synthetic: the generated images, preprocessed the same way.
        :param embed: images (preprocessed) -> feature vectors ``(n, d)`` in the
            trained classifier's penultimate layer.
        :param space: a name for ``embed``'s feature space, to report.
        :param spec: how the images were preprocessed (``spec.to_unit`` undoes the scaling).
        :param real_paths: the file of each real image, in order.
        :param synthetic_paths: the file of each synthetic image, in order.
        :param outdir: a folder this evaluator may write figures and tables into.
        """
        ...


@runtime_checkable
class LungFieldEstimator(Protocol):
    """Says where the lungs are on a chest radiograph, from the image alone.

    An estimator may carry a ``version`` attribute (a short string): image
    properties read outside its fields are cached under it, so a new version
    reads the images again. Change it whenever the fields it draws change.
    """

    def estimate(self, image: np.ndarray) -> np.ndarray:
        """Return the lung fields of one image: True inside either lung.

        :param image: one decoded greyscale image, ``(h, w)`` float32 in [0, 1],
            at any size (a full decoded file or a model input; 64 px and up).
        :returns: a bool array of the same ``(h, w)``. It must come from the
            pixels alone, never from a label, and should neither grow nor shrink
            with opacities inside the lungs: the occlusion checks and the
            lung-blind baseline read it on both classes alike.
        """
        ...


Evaluator = PlainEvaluator | ContextEvaluator | SyntheticAssessor
"""What an evaluator factory returns: an object offering one (or several) of the variants.

``isinstance(obj, Evaluator)`` checks it; :func:`evaluator_variant` says how a
split is evaluated with it.
"""

EvaluatesInContext = ContextEvaluator  # the variants' first names, kept for plugins using them
AssessesSynthetic = SyntheticAssessor


def evaluator_variant(evaluator: object) -> str | None:
    """How the core evaluates a split with ``evaluator``.

    :returns: ``"context"`` (it offers ``evaluate_context``, preferred),
        ``"plain"`` (``evaluate``), or None: it only assesses synthetic images,
        once after training (:class:`SyntheticAssessor`), or is no evaluator.
    """
    if isinstance(evaluator, ContextEvaluator):
        return "context"
    if isinstance(evaluator, PlainEvaluator):
        return "plain"
    return None


def compose(extractor: keras.Model, head: keras.Model, name: str = "classifier") -> keras.Model:
    """The full model: images -> ``extractor`` -> ``head``, sharing both parts' layers.

    A :class:`~.capabilities.SplitBackbone`'s ``build`` must return this.
    """
    import keras

    inputs = keras.Input(shape=tuple(extractor.input_shape[1:]), name="image")
    return keras.Model(inputs, head(extractor(inputs)), name=name)
