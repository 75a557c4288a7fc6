"""bamnet: train, audit, export and serve chest X-ray classifiers.

The framework core. It defines the plugin contract (``hookspecs``), loads
plugins (``plugins``), resolves configuration (``config``) and orchestrates
runs (``runner``). It knows nothing of any particular model or dataset: those
arrive through plugins, the built-in ones included.
"""

import os
from importlib.metadata import PackageNotFoundError, version

# TensorFlow logs C++ start-up noise (missing CUDA drivers, oneDNN notes) to stderr
# before Python can configure anything. Silence it unless the user chose a level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

try:
    __version__ = version("bamnet")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
