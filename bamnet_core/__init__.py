"""bamnet: train, audit, export and serve chest X-ray classifiers.

The framework core. It knows nothing of any particular model or dataset:
those arrive through plugins, the built-in ones included. The layers, bottom
up (``docs/architecture.md``; an import-linter contract in ``pyproject.toml``
keeps them):

- ``_util``: atomic writes, the cache folder, progress events;
- ``imaging``: file formats, decoding, :class:`PreprocessSpec`;
- ``contract``: the plugin API (hooks, protocols, capabilities, ``Sample``);
- ``plugins``: the plugin manager and the component registry;
- ``config``: the schema, ``--set``, validation, building components;
- ``data``, ``runs``: datasets (splits, audit, loading) and the run folder;
- ``train``, ``score``: Keras training; onnxruntime scoring;
- ``export``: Keras to a verified ONNX file;
- ``experiment``: one run, end to end;
- ``cli``: the ``bamnet`` command.

Importing this package changes no environment variable, logger or file
descriptor.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bamnet")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
