"""What runs on Ray workers: the decode task and the scoring actor.

Both reuse local scoring's pieces: :func:`.inputs.load_with_uids`
decodes (so a bad file gets the same error text) and :class:`.scorer.Scorer`
runs the model and applies the decision rule (so probabilities are those of
``bamnet score``). Batches are dicts of numpy arrays, Ray Data's "numpy"
batch format. Imports no Ray: Ray imports this module on its workers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._util.atomic import write_bytes
from ..errors import ImageDecodeError
from ..imaging.preprocess import PreprocessSpec
from .inputs import load_with_uids
from .rows import record_to_columns
from .scorer import Scorer, with_uids
from .uids import UID_COLUMNS, InstanceUids
from .uri_files import is_uri, read_uri_bytes


def decode_batch(batch: dict[str, np.ndarray], *, spec_json: str, max_pixels: int,
                 max_bytes: int, uids: bool = False) -> dict[str, np.ndarray]:
    """Rows ``path, error`` -> ``path, error, pixels`` (model input; zeros where it failed),
    and with ``uids`` the UID columns and ``note`` (:mod:`.uids`; ``""`` where none)."""
    spec = PreprocessSpec.from_json(spec_json)
    paths = [str(p) for p in batch["path"]]
    reasons = [str(e or "") for e in batch["error"]]
    pixels = np.zeros((len(paths), *spec.input_shape), np.float32)
    found: list[InstanceUids] = [InstanceUids()] * len(paths)
    for i, path in enumerate(paths):
        if reasons[i]:
            continue
        item: str | ImageDecodeError = path
        data = None
        if is_uri(path):
            try:
                data = read_uri_bytes(path, max_bytes=max_bytes)
            except ImageDecodeError as exc:
                item = exc
        result, read = load_with_uids(item, spec, uids=uids, max_pixels=max_pixels,
                                      max_bytes=max_bytes, data=data)
        found[i] = read or found[i]
        if isinstance(result, str):
            reasons[i] = result
        else:
            pixels[i] = result
    out = {"path": np.array(paths, dtype=object), "error": np.array(reasons, dtype=object),
           "pixels": pixels}
    if uids:
        for key, attr in ((UID_COLUMNS[0], "sop"), (UID_COLUMNS[1], "study"), ("note", "note")):
            out[key] = np.array([getattr(u, attr) or "" for u in found], dtype=object)
    return out


def local_model_copy(model: bytes, sha256: str) -> Path:
    """The model bytes as a file on this worker's node (written once per model)."""
    path = Path(tempfile.gettempdir(), f"bamnet-ray-models-{os.getuid()}", f"{sha256}.onnx")
    if not path.is_file() or path.stat().st_size != len(model):
        write_bytes(path, model, durable=False)
    return path


class ScoringActor:
    """One onnxruntime session per Ray worker (CUDA when the worker was given a GPU).

    :param model: a one-item list holding the object reference of the ONNX
        file's bytes (in Ray's object store, so workers need no shared
        filesystem for the model; in a list, so Ray passes the reference).
    """

    def __init__(self, *, model: list[Any], sha256: str, threshold: float | None, provider: str,
                 threads: int | None = None) -> None:
        import ray

        self.scorer = Scorer(local_model_copy(ray.get(model[0]), sha256), threshold=threshold,
                             provider=provider, threads=threads)  # type: ignore[arg-type]
        if self.scorer.sha256 != sha256:
            raise RuntimeError("the model copy on this worker does not match the driver's")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        """Rows ``path, error, pixels`` (and the UID columns and ``note``, if the decode
        added them) -> score rows (the CSV columns), ``provider`` (and ``note``)."""
        scorer, classes = self.scorer, self.scorer.classes
        uids = UID_COLUMNS[0] in batch
        paths = [str(p) for p in batch["path"]]
        reasons = [str(e or "") for e in batch["error"]]
        good = [i for i, reason in enumerate(reasons) if not reason]
        scored = dict(zip(good, scorer.records([paths[i] for i in good],
                                               np.asarray(batch["pixels"])[good]), strict=True)
                      ) if good else {}
        rows = [record_to_columns(with_uids(scored[i] if i in scored
                                            else scorer.failed(p, reasons[i]),
                                            _uids(batch, i) if uids else None),
                                  classes, uids) for i, p in enumerate(paths)]
        columns: dict[str, Any] = {}
        for key in rows[0] if rows else []:
            values = [row[key] for row in rows]
            if key.startswith("prob_") or key == "threshold":
                columns[key] = np.array([np.nan if v is None else v for v in values],
                                        dtype=np.float64)
            else:
                columns[key] = np.array(["" if v is None else v for v in values], dtype=object)
        columns["provider"] = np.array([scorer.provider] * len(paths), dtype=object)
        if uids:
            columns["note"] = np.asarray(batch["note"], dtype=object)
        return columns


def _uids(batch: dict[str, np.ndarray], i: int) -> InstanceUids:
    """Row ``i``'s UIDs as :func:`decode_batch` put them in the batch."""
    sop, study, note = (str(batch[k][i] or "") or None for k in (*UID_COLUMNS, "note"))
    return InstanceUids(sop, study, note)
