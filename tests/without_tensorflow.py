"""Run the bamnet CLI in a process where TensorFlow cannot be imported, as on a machine without it.

``python tests/without_tensorflow.py ARGS...`` is ``bamnet ARGS...`` with an
import hook that makes ``tensorflow``, ``tf2onnx`` and ``tf_keras`` behave as
if they were not installed (``import`` raises ``ModuleNotFoundError``;
``importlib.util.find_spec`` finds no file). At exit it writes one line to
stderr, ``without-tensorflow: loaded=<names>``, listing any of them found in
``sys.modules`` (there must be none). Child processes are not affected, so the
export stage's own TensorFlow process still works.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

BLOCKED = ("tensorflow", "tf2onnx", "tf_keras")


class _Absent(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        raise ModuleNotFoundError(f"No module named {spec.name!r} (blocked for this test)",
                                  name=spec.name)

    def exec_module(self, module: ModuleType) -> None:  # never reached: create_module raises
        raise ModuleNotFoundError(f"No module named {module.__name__!r}")


class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name.split(".")[0] in BLOCKED:
            return importlib.machinery.ModuleSpec(name, _Absent(), origin=None)
        return None


def _report() -> None:
    loaded = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
    sys.stderr.write(f"without-tensorflow: loaded={','.join(loaded)}\n")


if __name__ == "__main__":
    sys.meta_path.insert(0, _Block())
    atexit.register(_report)
    from bamnet_core.cli import main

    main(sys.argv[1:])
