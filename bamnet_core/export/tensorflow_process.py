"""ONNX export from a run trained on JAX or PyTorch: tf2onnx in a separate TensorFlow process.

tf2onnx converts TensorFlow graphs, so the export always loads ``model.keras``
under ``KERAS_BACKEND=tensorflow``. A run that trained on another backend
cannot switch backends in its own process (Keras picks one at import), so the
export stage starts ``python -m bamnet_core.export.tensorflow_process`` with
the TensorFlow backend and the same options. The child sends its progress and
its result (or its error) back as JSON lines on stdout; the parent re-raises
an error as the same bamnet error class, so the user sees one ``Error:`` line
either way. Where TensorFlow is not installed at all (a GPU machine with only
JAX or PyTorch), :func:`tensorflow_installed` says so before anything starts.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import errors
from .._util.progress import ProgressCallback, silent
from .child import die_with_parent, run_reporting_child

#: Distributions that provide the ``tensorflow`` module.
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly")


def tensorflow_installed() -> bool:
    """Whether a TensorFlow distribution is installed (read from metadata, not imported)."""
    for name in TENSORFLOW_DISTRIBUTIONS:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        return True
    return False


def export_in_tensorflow(run_dir: Path, options: dict[str, Any],
                         progress: ProgressCallback = silent) -> dict[str, str]:
    """Run :func:`~bamnet_core.export.onnx_export.export_onnx` on ``run_dir`` in a
    TensorFlow child process; return the files it wrote, as the export stage records them.

    :param options: keyword arguments of ``export_onnx`` (JSON values only; ``carried``
        as the fields of :class:`~bamnet_core.export.onnx_export.CarriedFacts`).
    :raises BamnetError: the child's error, as the same class, message and hint.
    """
    if not tensorflow_installed():
        raise errors.RunError("ONNX export converts through TensorFlow, which is not installed "
                              "here", hint=f"run `bamnet export {run_dir} --onnx` where "
                                           "TensorFlow is installed (pip install bamnet)")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    command = [sys.executable, "-m", __name__, str(run_dir), json.dumps(options), str(os.getpid())]
    outcome = run_reporting_child(command, progress, env=env)
    result = outcome.final
    if result is None or not ("result" in result or "error" in result):
        raise errors.RunError(f"the TensorFlow export process ended with exit code "
                              f"{outcome.returncode} and no result: {outcome.last_error_line}",
                              hint="rerun with `bamnet export RUN --onnx` to see the error")
    if "error" in result:
        failure = result["error"]
        raise _rebuilt(failure)
    return dict(result["result"])


def _rebuilt(failure: dict[str, Any]) -> errors.BamnetError:
    """The child's error as the class it had (a :class:`RunError` if unknown here)."""
    from .parity import ParityError

    known = {cls.__name__: cls for cls in (ParityError, *vars(errors).values())
             if isinstance(cls, type) and issubclass(cls, errors.BamnetError)}
    kind = known.get(str(failure.get("kind")), errors.RunError)
    error = errors.BamnetError.__new__(kind)
    errors.BamnetError.__init__(error, str(failure.get("message", "export failed")),
                                hint=failure.get("hint"))
    return error


def _child(run_dir: str, options_json: str, parent: str) -> int:
    """The child process: export, with progress and result as JSON lines on stdout; it
    ends when its parent (pid ``parent``) does."""
    die_with_parent(int(parent))
    from .onnx_export import CarriedFacts, export_onnx

    def send(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    options = json.loads(options_json)
    options["carried"] = CarriedFacts(**options["carried"])
    try:
        done = export_onnx(Path(run_dir), progress=lambda e: send({"progress": asdict(e)}),
                           **options)
    except errors.BamnetError as exc:
        send({"error": {"kind": type(exc).__name__, "message": exc.message,
                        "hint": exc.hint}})
        return 1
    send({"result": {"model": str(done.model_path),
                     **{f"model_{n}": str(p) for n, p in done.variants.items()}}})
    return 0


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:4]))
