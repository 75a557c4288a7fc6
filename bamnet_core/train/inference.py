"""Inference for evaluation: probabilities and penultimate features, reusing cached features.

A model trained on cached features (a frozen extractor composed with a head,
``train.feature_cache``) is evaluated the same way: the extractor's outputs
come from the on-disk cache (validation's are already there from training) and
only the head runs. Pixels no one has seen before (occluded images) go through
the full model.

One forward pass gives both the probabilities and the penultimate features:
:meth:`ModelInference.probabilities` runs a two-output model and keeps the
features of the array it was given, so :meth:`ModelInference.features` on the
same array (the source probe on a split's images) runs nothing again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, silent
from ..imaging.preprocess import PreprocessSpec
from .backend import to_numpy
from .feature_cache import cached_features

BATCH = 64


def _batched(fn: Any, x: np.ndarray) -> np.ndarray:
    """``fn`` over ``x`` in batches, as float32 (``x`` must not be empty)."""
    with warnings.catch_warnings():  # scoped: the caller's filters are restored
        # a head reloaded from model.keras records its one input as a list; Keras warns on
        # every call that gives it the bare array, which is what it takes
        warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match",
                                category=UserWarning)
        return np.concatenate([to_numpy(fn(x[i:i + BATCH], training=False))
                               for i in range(0, len(x), BATCH)])


def split_parts(model: Any) -> tuple[Any, Any] | None:
    """``(extractor, head)`` of a composed model (layers named ``backbone`` and ``head``)."""
    names = {layer.name for layer in model.layers}
    if {"backbone", "head"} <= names:
        return model.get_layer("backbone"), model.get_layer("head")
    return None


def _both_model(model: Any) -> Any | None:
    """A model from ``model``'s input to (penultimate features, outputs), or None."""
    import keras

    last = model.layers[-1]
    if hasattr(last, "layers") and hasattr(last, "inputs"):
        return None
    return keras.Model(model.inputs, [last.input, model.output])


def _penultimate_model(model: Any) -> Any | None:
    """A model from ``model``'s input to the input of its last layer (the class scores)."""
    import keras

    last = model.layers[-1]
    if hasattr(last, "layers") and hasattr(last, "inputs"):
        return None
    return keras.Model(model.inputs, last.input)


class ModelInference:
    """Probabilities and penultimate features of a trained model for evaluation.

    :param from_cache: the model was trained on cached features, so its
        extractor's outputs can be read from the feature cache.
    """

    def __init__(self, model: Any, spec: PreprocessSpec, *, from_cache: bool,
                 progress: ProgressCallback = silent) -> None:
        self.model = model
        self.spec = spec
        self.progress = progress
        self.parts = split_parts(model) if from_cache else None
        self.classes = int(model.output_shape[-1])
        parts = split_parts(model)
        self._last = parts[1] if parts else model  # the model whose penultimate layer we read
        self._both = _both_model(self._last)
        self._seen: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id(x) -> (x, features)

    def _through_last(self, inputs: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Probabilities of ``inputs`` through :attr:`_last`, keeping the features for ``x``."""
        if self._both is None:
            return _batched(self._last, inputs)
        feats, probs = [], []
        for i in range(0, len(inputs), BATCH):
            pen, out = _batched_pair(self._both, inputs[i:i + BATCH])
            feats.append(pen)
            probs.append(out)
        self._seen[id(x)] = (x, np.concatenate(feats).reshape(len(x), -1))
        return np.concatenate(probs)

    def probabilities(self, x: np.ndarray, *, cached: bool = True) -> np.ndarray:
        """Class probabilities ``(n, k)``; ``cached=False`` always runs the full model.

        With ``cached`` (the split's own images), the same pass keeps the
        penultimate features for :meth:`features`.
        """
        if not len(x):
            return np.zeros((0, self.classes), dtype=np.float32)
        if not cached:
            return _batched(self.model, x)
        if self.parts is not None:
            extractor, _ = self.parts
            feats, _ = cached_features(extractor, x, spec=self.spec, progress=self.progress,
                                       stage="evaluation features")
            return self._through_last(feats, x)
        if split_parts(self.model) is not None:  # composed, but not trained on the cache
            return _batched(self.model, x)
        return self._through_last(x, x)

    def features(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """images -> flattened penultimate features, or None when the model hides them."""
        parts = split_parts(self.model)
        inner = _penultimate_model(parts[1] if parts else self.model)
        if inner is None:
            return None

        def run(x: np.ndarray) -> np.ndarray:
            seen = self._seen.get(id(x))
            if seen is not None and seen[0] is x:  # computed with the probabilities
                return seen[1]
            if parts is None:
                feats = _batched(inner, x)
            else:
                extractor = parts[0]
                maps = (cached_features(extractor, x, spec=self.spec)[0]
                        if self.parts is not None else _batched(extractor, x))
                feats = _batched(inner, maps)
            return feats.reshape(len(x), -1)

        return run


def _batched_pair(fn: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``fn(x)`` for a two-output model, as float32 arrays."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match",
                                category=UserWarning)
        first, second = fn(x, training=False)
    return to_numpy(first), to_numpy(second)
