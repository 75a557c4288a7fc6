"""An onnxruntime session for a bamnet model: the execution provider, and a graph that
matches its own metadata."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from ..errors import BamnetError
from .metadata import ModelFileError, ModelInfo

Provider = Literal["auto", "cuda", "cpu"]
_CUDA, _CPU = "CUDAExecutionProvider", "CPUExecutionProvider"


class ProviderError(BamnetError):
    """The requested onnxruntime execution provider is not usable here."""


def open_session(model_path: str | Path, provider: Provider = "auto",
                 threads: int | None = None) -> Any:
    """An onnxruntime session on CUDA when asked/available, else CPU.

    With ``auto``, a missing CUDA library is expected, so onnxruntime's
    complaints about it are silenced; ``get_providers()`` tells what we got.
    """
    import onnxruntime as ort

    if provider not in ("auto", "cuda", "cpu"):
        raise ProviderError(f"unknown provider {provider!r}", hint="use auto, cuda or cpu")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    # idle intra-op threads would spin for work between runs, taking the cores the decode
    # threads need while inference waits for the next batch (decoding overlaps inference)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    wanted = [_CPU]
    if provider != "cpu" and _CUDA in ort.get_available_providers():
        wanted.insert(0, _CUDA)
    ort.set_default_logger_severity(4 if provider == "auto" else 3)
    try:
        session = ort.InferenceSession(os.fspath(model_path), options, providers=wanted)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"cannot load ONNX model {model_path}: {first}",
                             hint="is it a model written by `bamnet export --onnx`?") from None
    finally:
        ort.set_default_logger_severity(2)
    if provider == "cuda" and _CUDA not in session.get_providers():
        raise ProviderError(
            "--provider cuda asked for CUDA, but onnxruntime could not use it "
            f"(available: {', '.join(ort.get_available_providers())})",
            hint="install onnxruntime-gpu with its CUDA libraries (pip install 'bamnet[gpu]') "
                 "on a machine with an NVIDIA GPU, or use --provider auto")
    return session


def _dims(shape: Any) -> list[int | None]:
    return [d if isinstance(d, int) else None for d in (shape or [])]


def check_model_io(session: Any, info: ModelInfo, source: str) -> None:
    """Refuse a model whose graph does not match its own metadata.

    :raises ModelFileError: the output has another number of classes than
        ``bamnet.classes``, or the input another shape than ``bamnet.preprocess``.
    """
    hint = "re-export the model with `bamnet export RUN_DIR --onnx`; its metadata must " \
           "describe its own graph"
    outputs = session.get_outputs()
    width = _dims(outputs[0].shape)[-1] if outputs and outputs[0].shape else None
    if width is not None and width != len(info.classes):
        raise ModelFileError(f"{source}: the model outputs {width} classes but its metadata "
                             f"names {len(info.classes)} ({', '.join(info.classes)})", hint=hint)
    dims = _dims(session.get_inputs()[0].shape)
    if len(dims) != 4:
        raise ModelFileError(f"{source}: the model input has {len(dims)} dimensions; bamnet "
                             "models take (batch, height, width, channels)", hint=hint)
    expected = info.spec.input_shape
    if any(d is not None and d != e for d, e in zip(dims[1:], expected, strict=True)):
        shown = "x".join("?" if d is None else str(d) for d in dims[1:])
        raise ModelFileError(f"{source}: the model input is {shown} but its preprocessing "
                             f"makes {'x'.join(map(str, expected))}", hint=hint)
