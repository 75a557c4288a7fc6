"""The Keras module, imported when training or export first needs it.

Importing TensorFlow prints C++ start-up lines on some machines; silencing
them changes process-wide state (file descriptor 2, ``TF_CPP_MIN_LOG_LEVEL``),
which a library must not do. The CLI does it in its own process before it
calls here (``bamnet_core.cli.noise``); library users keep full control.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np


def import_keras() -> ModuleType:
    """Return the ``keras`` module (its backend, TensorFlow by default, comes with it)."""
    return importlib.import_module("keras")


def to_numpy(value: Any) -> np.ndarray:
    """A backend tensor (TensorFlow, JAX or a PyTorch tensor that may carry gradients) as a
    float32 NumPy array."""
    return np.asarray(import_keras().ops.convert_to_numpy(value), dtype=np.float32)
