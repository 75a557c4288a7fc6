"""Process-wide quieting that only the CLI may do: it owns the process.

TensorFlow logs C++ start-up noise (missing CUDA drivers, oneDNN notes)
straight to file descriptor 2 before Python can configure anything
(``TF_CPP_MIN_LOG_LEVEL`` does not reach those lines), and OpenCV logs decoder
warnings for files that already become error rows. The library never touches
either; :func:`quiet_process` runs in ``main``. It makes TensorFlow's import,
whenever it happens, run with fd 2 pointed at /dev/null for the duration of
that import only (:class:`QuietTensorFlowImport`): on the JAX or PyTorch
backend Keras still imports TensorFlow when it is installed (to seed it, in
``keras.utils.set_random_seed``), later and from anywhere, so quieting only
the import of Keras (:func:`preload_keras`) left a JAX run's stderr full of
CUDA and oneDNN lines. ``BAMNET_DEBUG=1`` keeps everything.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from .errors import debug_enabled

TRACE_ENV = "BAMNET_TRACE_PLUGINS"


def quiet_process() -> None:
    """Set the CLI process's log levels (TensorFlow C++, OpenCV) and the bamnet log handler."""
    if not debug_enabled():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            import cv2

            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        except (ImportError, AttributeError):  # builds without the logging utilities
            pass
        if "tensorflow" not in sys.modules and \
                not any(isinstance(f, QuietTensorFlowImport) for f in sys.meta_path):
            sys.meta_path.insert(0, QuietTensorFlowImport())
    logger = logging.getLogger("bamnet")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("bamnet: %(message)s"))
        logger.addHandler(handler)
    tracing = os.environ.get(TRACE_ENV, "") not in ("", "0")
    logger.setLevel(logging.DEBUG if tracing or debug_enabled() else logging.WARNING)


def preload_keras() -> None:
    """Import Keras (and TensorFlow) now, without their C++ start-up lines on stderr."""
    if "keras" in sys.modules or debug_enabled():
        importlib.import_module("keras")
        return
    with fd2_hidden():
        importlib.import_module("keras")


@contextlib.contextmanager
def fd2_hidden() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the block (unchanged where there is none)."""
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (embedded interpreters)
        yield
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` through the other finders, and runs its import with fd 2 hidden.

    It stays in ``sys.meta_path``: a ``find_spec`` that only asks whether TensorFlow
    is installed imports nothing, and the import that follows must still be quiet.
    """

    def __init__(self) -> None:
        self.finding = False

    def find_spec(self, name: str, path: Any, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        """TensorFlow's spec with a quiet loader; None for every other module."""
        if name != "tensorflow" or self.finding:
            return None
        self.finding = True  # the other finders do the finding (a test's blocker too)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.finding = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    """Delegates to TensorFlow's own loader, with fd 2 hidden while the module runs."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """The module the real loader creates."""
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Run TensorFlow's ``__init__`` with its C++ start-up lines going to /dev/null."""
        module.__loader__ = self.loader
        with fd2_hidden():
            self.loader.exec_module(module)


@contextlib.contextmanager
def ray_logs_hidden() -> Iterator[None]:
    """Hide Ray's own log lines for the block; bamnet's lines still reach stderr.

    Ray's C++ core writes to file descriptor 2 (join retries such as
    "InvalidAuthToken", the actor-restart warning, a lost raylet's last lines),
    and its driver prints errors pushed from the cluster to ``sys.stdout``. Every
    Ray failure becomes one ``Error:`` line instead, and Ray keeps its own logs in
    its session folder. So for the block fd 2 points at /dev/null, ``sys.stderr``
    writes to the real stderr through a duplicate, and ``sys.stdout`` to
    /dev/null (a Ray run prints its rows to a file, never to stdout).
    ``BAMNET_DEBUG=1`` keeps everything.
    """
    if debug_enabled():
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (embedded interpreters)
        yield
        return
    sys.stderr.flush()
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    real = open(saved, "w", encoding=sys.stderr.encoding, errors="replace",  # noqa: SIM115
                closefd=False)
    with open(os.devnull, "w") as sink:
        os.dup2(devnull, 2)
        try:
            with contextlib.redirect_stderr(real), contextlib.redirect_stdout(sink):
                yield
        finally:
            real.flush()
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
