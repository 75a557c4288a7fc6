"""Import Keras (and TensorFlow behind it) quietly, once.

TensorFlow writes C++ start-up lines ("oneDNN custom operations are on",
"Could not find cuda drivers") straight to file descriptor 2 before its
logging is configured, so no environment variable silences them. We point
fd 2 at /dev/null for the duration of the first import only. Python
exceptions are unaffected; ``BAMNET_DEBUG=1`` keeps the lines.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType


def _quiet_import(name: str) -> ModuleType:
    if name in sys.modules or os.environ.get("BAMNET_DEBUG", "") not in ("", "0"):
        return importlib.import_module(name)
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (embedded interpreters)
        return importlib.import_module(name)
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        return importlib.import_module(name)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras() -> ModuleType:
    """Return the ``keras`` module, importing its backend without start-up noise."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        _quiet_import("tensorflow")
    return _quiet_import("keras")
