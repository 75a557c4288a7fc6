"""Optional capabilities: extras a component may offer beyond its kind's protocol.

The core checks for each with ``isinstance(component, Capability)`` and uses
it when present. Every capability is documented in ``docs/plugins/hooks.md``;
a test keeps the two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .download import DatasetDownload

if TYPE_CHECKING:
    import keras

    from ..imaging.preprocess import PreprocessSpec


@runtime_checkable
class Detectable(Protocol):
    """A dataset source class that recognises data on disk (``bamnet data inspect PATH``).

    Offered by the *class* registered as the source's factory. Sources are
    asked in order of falling ``detect_priority`` (then by name); the first
    whose ``detect`` returns options reads the path.
    """

    detect_priority: int

    @classmethod
    def detect(cls, path: Path) -> dict[str, Any] | None:
        """Options for the factory to read ``path``, or None if this source cannot.

        Return None rather than raise for data that is not yours; a path that
        ``detect`` claims but ``samples()`` cannot read is passed on to the
        next source.
        """
        ...


@runtime_checkable
class Downloadable(Protocol):
    """A dataset source class whose public data ``bamnet data fetch NAME`` can download."""

    download: DatasetDownload


@runtime_checkable
class HasNotes(Protocol):
    """A dataset source instance with remarks for the user (shown by ``bamnet data inspect``)."""

    notes: list[str]


@runtime_checkable
class ChecksPreprocess(Protocol):
    """A backbone that refuses preprocessing that does not suit it, before any training."""

    def check_preprocess(self, spec: PreprocessSpec) -> None:
        """Raise :class:`~bamnet_core.errors.ConfigError` naming the ``[preprocess]`` key to set."""
        ...


@runtime_checkable
class NeedsFiles(Protocol):
    """A component that needs files which may be missing (pretrained weights, say).

    ``bamnet run`` asks before anything runs, and names every missing input
    (data and files) in one error, so a run never fails minutes in for a
    file it could have asked for at the start.
    """

    def missing_files(self) -> list[tuple[str, str]]:
        """``(what is missing, how to get it)`` for each file the component lacks; [] if none."""
        ...


@runtime_checkable
class SplitBackbone(Protocol):
    """A backbone whose model is a feature extractor then a head.

    It lets training cache the extractor's outputs on disk when the extractor
    is frozen and train only the head on them (``train.feature_cache``). Its
    ``build`` must equal :func:`~.protocols.compose` of the two parts, so the
    saved model is always the full one.
    """

    def feature_extractor(self, input_shape: tuple[int, int, int]) -> keras.Model:
        """Return the extractor, named ``"backbone"``, with trainable flags set per its config.

        Its layers must have fixed names, so ``finetune.unfreeze`` can name one.
        """
        ...

    def head(self, feature_shape: tuple[int, ...], num_classes: int) -> keras.Model:
        """Return the head, named ``"head"``: features to class probabilities."""
        ...


@runtime_checkable
class FineTunable(Protocol):
    """A backbone that says which of its layers ``[train.finetune]`` unfreezes by default."""

    finetune_from: str
    """Name prefix of the first extractor layer that fine-tuning unfreezes (VGG16: ``block5``)."""


@runtime_checkable
class NamesGradCamLayer(Protocol):
    """A backbone that names the convolutional layer Grad-CAM should read."""

    gradcam_layer: str
    """Name of the last convolutional layer (nested models are searched), e.g. ``block5_conv3``."""


@runtime_checkable
class StatesPopulation(Protocol):
    """A dataset source that knows facts about the people in its data, per source name.

    The audit states them as facts (``"kermany: children aged 1-5"``) and, when
    one class comes from pediatric sources and another from adult ones, flags
    the mismatch outright instead of saying it cannot be ruled out.
    """

    def population_facts(self) -> dict[str, dict[str, str]]:
        """Source name -> ``{"age_group": "pediatric" | "adult", "fact": "one sentence"}``."""
        ...


CAPABILITIES: tuple[type, ...] = (Detectable, Downloadable, HasNotes, ChecksPreprocess,
                                  NeedsFiles, SplitBackbone, FineTunable, NamesGradCamLayer,
                                  StatesPopulation)
