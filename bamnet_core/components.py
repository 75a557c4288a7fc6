"""Typed protocols for the four component kinds, and the :class:`Sample` record.

A plugin's factories return objects satisfying these protocols. The core
never imports a concrete implementation; it calls through these methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # keras is heavy; only type checkers import it here
    import keras
    import numpy as np


@dataclass(frozen=True)
class Sample:
    """One labelled image, with where it came from.

    :param path: the image file.
    :param label: the class name.
    :param patient_id: the patient the image belongs to; splits group by it.
        Sources that know no patient use the file path, one patient per image.
    :param source: the dataset or sub-source the image came from.
    :param view: radiographic view (``PA``, ``AP``, ...) when known.
    :param demographics: known facts such as ``age`` and ``sex``.
    :param synthetic: whether a generator made the image.
    :param generator: the generator's name, for synthetic images.
    :param generator_seed: the seed the generator used, for synthetic images.
    """

    path: str
    label: str
    patient_id: str
    source: str
    view: str | None = None
    demographics: Mapping[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    generator: str | None = None
    generator_seed: int | None = None

    def to_row(self) -> dict[str, Any]:
        """Flatten to a dict of scalars for CSV and JSON output."""
        row = asdict(self)
        demographics = row.pop("demographics")
        for key in ("age", "sex"):
            row[key] = demographics.get(key)
        return row


@runtime_checkable
class DatasetSource(Protocol):
    """Yields the samples of a dataset."""

    def samples(self) -> Iterable[Sample]:
        """Return every sample of the dataset, in a stable order."""
        ...


@runtime_checkable
class Generator(Protocol):
    """Learns from real images of one class and synthesises more of them."""

    def fit(self, samples: Sequence[Sample], *, workdir: Path, seed: int) -> None:
        """Train on ``samples`` (training split only), writing artefacts to ``workdir``."""
        ...

    def generate(self, count: int, *, label: str, outdir: Path, seed: int) -> list[Sample]:
        """Write ``count`` images to ``outdir`` and return them as synthetic samples."""
        ...


@runtime_checkable
class Backbone(Protocol):
    """Builds a classification model.

    A backbone may also define ``check_preprocess(spec)``, raising
    :class:`bamnet_core.errors.ConfigError` when a
    :class:`bamnet_core.images.PreprocessSpec` does not suit it (VGG16 with
    ImageNet weights needs ``scaling = "vgg16"``); training calls it first.
    See also the optional :class:`SplitBackbone` capability.
    """

    def build(self, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
        """Return an uncompiled Keras model mapping images to class probabilities."""
        ...


@runtime_checkable
class SplitBackbone(Protocol):
    """Optional capability of a :class:`Backbone`: its model is a feature extractor then a head.

    A backbone that offers it lets training cache the extractor's outputs on
    disk when the extractor is frozen and train only the head on them
    (``train.feature_cache``), and lets ``[train.finetune]`` unfreeze the
    extractor's last layers by name. Its :meth:`Backbone.build` must equal
    :func:`compose` of the two parts, so the saved model is always the full one.
    """

    def feature_extractor(self, input_shape: tuple[int, int, int]) -> keras.Model:
        """Return the extractor, named ``"backbone"``, with trainable flags set per its config.

        Its layers must have fixed names, so ``finetune.unfreeze`` can name one.
        """
        ...

    def head(self, feature_shape: tuple[int, ...], num_classes: int) -> keras.Model:
        """Return the head, named ``"head"``: features to class probabilities."""
        ...


def compose(extractor: keras.Model, head: keras.Model, name: str = "classifier") -> keras.Model:
    """The full model: images -> ``extractor`` -> ``head``, sharing both parts' layers."""
    import keras

    inputs = keras.Input(shape=tuple(extractor.input_shape[1:]), name="image")
    return keras.Model(inputs, head(extractor(inputs)), name=name)


@runtime_checkable
class Evaluator(Protocol):
    """Turns predictions on a split into metrics."""

    def evaluate(
        self,
        y_true: np.ndarray,
        y_prob: np.ndarray,
        *,
        class_names: Sequence[str],
        positive: str,
        threshold: float,
    ) -> dict[str, Any]:
        """Return JSON-serialisable metrics.

        :param y_true: integer class indices, shape ``(n,)``.
        :param y_prob: class probabilities, shape ``(n, len(class_names))``.
        :param class_names: the class names, in index order.
        :param positive: the positive class (sensitivity is measured on it).
        :param threshold: a sample is called positive when its positive-class
            probability is at least this.
        """
        ...


def iter_samples(source: DatasetSource) -> Iterator[Sample]:
    """Iterate a source's samples, checking each is a :class:`Sample`."""
    for item in source.samples():
        if not isinstance(item, Sample):
            raise TypeError(f"dataset source yielded {type(item).__name__}, expected Sample")
        yield item
