"""Cache a frozen feature extractor's outputs on disk, one file per image.

Files live under ``$BAMNET_CACHE_DIR/features/<key>/<image>.npy``. ``key``
hashes the extractor (architecture and every weight, so ``weights = "none"``
with another seed is another key) and the :class:`PreprocessSpec`; ``image``
hashes the preprocessed pixels. Training the head on these features is
equivalent to training the full model with a frozen extractor and no
augmentation, and each epoch skips the extractor's forward pass.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from .._util import atomic
from .._util.cachedir import cache_dir, fingerprint
from .._util.progress import ProgressCallback, ProgressEvent, silent
from ..imaging.preprocess import PreprocessSpec
from .backend import to_numpy

FORMAT_VERSION = 1


def extractor_fingerprint(extractor: Any) -> str:
    """A hash of the extractor's layers (kind, precision, weights), ignoring auto names."""
    digest = hashlib.sha256(str(tuple(extractor.input_shape)).encode("utf-8"))
    for layer in extractor.layers:
        config = {k: v for k, v in layer.get_config().items() if k not in ("name", "trainable")}
        digest.update(f"{type(layer).__name__}{sorted(config.items())}".encode())
        for weight in layer.get_weights():
            digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:32]


def image_key(array: np.ndarray) -> str:
    """A hash of one preprocessed image."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:32]


def cache_folder(extractor: Any, spec: PreprocessSpec) -> Path:
    """The folder holding this extractor's features for this preprocessing."""
    key = fingerprint({"extractor": extractor_fingerprint(extractor),
                       "preprocess": spec.to_json(), "format": FORMAT_VERSION})
    return cache_dir("features", key)


def _load(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):  # absent or damaged: recompute
        return None


def cached_features(extractor: Any, x: np.ndarray, *, spec: PreprocessSpec,
                    batch_size: int = 32, progress: ProgressCallback = silent,
                    stage: str = "features") -> tuple[np.ndarray, dict[str, int]]:
    """The extractor's outputs for ``x``, computing only images not yet cached.

    :returns: features ``(n, *extractor.output_shape[1:])`` and counts
        ``{"cached": ..., "computed": ...}``.
    """
    folder = cache_folder(extractor, spec)
    keys = [image_key(img) for img in x]
    found: dict[int, np.ndarray] = {}
    for i, key in enumerate(keys):
        got = _load(folder / f"{key}.npy")
        if got is not None:
            found[i] = got
    missing = [i for i in range(len(x)) if i not in found]
    progress(ProgressEvent(stage, 0, len(missing), f"{stage} ({len(found)} cached)"))
    for start in range(0, len(missing), batch_size):
        chunk = missing[start:start + batch_size]
        out = to_numpy(extractor(x[chunk], training=False))
        for i, feats in zip(chunk, out, strict=True):
            buf = io.BytesIO()
            np.save(buf, feats, allow_pickle=False)
            atomic.write_bytes(folder / f"{keys[i]}.npy", buf.getvalue())
            found[i] = feats
        progress(ProgressEvent(stage, start + len(chunk), len(missing), stage))
    if not len(x):
        return np.zeros((0, *extractor.output_shape[1:]), dtype=np.float32), {}
    features = np.stack([found[i] for i in range(len(x))]).astype(np.float32)
    return features, {"cached": len(x) - len(missing), "computed": len(missing)}
