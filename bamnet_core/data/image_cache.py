"""Decoded, resized images on disk, so later epochs and later runs never decode again.

An entry is keyed by the SHA-256 of the file's bytes and the fingerprint of
the :class:`~bamnet_core.imaging.preprocess.PreprocessSpec` (and the decoder's version,
:data:`~bamnet_core.imaging.decode.DECODER_VERSION`), so an edited file, a new spec or a
changed decoder misses, and a renamed or copied file hits. Entries hold the resized
grayscale image as ``uint16`` (exact: :meth:`PreprocessSpec.resize`
quantises to 16 bits), about 100 KB at 224x224. Writes are atomic; an entry
that cannot be read back, or has the wrong shape, is ignored and rebuilt.
Set ``BAMNET_IMAGE_CACHE=0`` to turn the cache off.
"""

from __future__ import annotations

import io
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .._util.cachedir import cache_dir, fingerprint, write_entry
from ..imaging import decode as decoding
from ..imaging.decode import decode_bytes, decode_described, read_image_bytes
from ..imaging.limits import DEFAULT_MAX_PIXELS
from ..imaging.preprocess import PreprocessSpec
from ..imaging.properties import LungSource
from .fingerprints import content_hash, remember_fingerprint
from .property_cache import recall_all

CACHE_ENV = "BAMNET_IMAGE_CACHE"
_FORMAT = 1


class ImageCache:
    """Resized images by (content hash, preprocessing spec).

    :param root: the cache folder; default ``cache_dir("images")``.
    :param enabled: when False every lookup misses and nothing is written.
    """

    def __init__(self, root: str | Path | None = None, *, enabled: bool = True) -> None:
        self.root = Path(root) if root is not None else cache_dir("images")
        self.enabled = enabled
        self.hits = 0

    @classmethod
    def from_env(cls) -> ImageCache:
        """The default cache, off when ``BAMNET_IMAGE_CACHE`` is ``0``/``false``/``off``."""
        off = os.environ.get(CACHE_ENV, "1").strip().lower() in ("0", "false", "off", "no")
        return cls(enabled=not off)

    def entry(self, sha: str, spec: PreprocessSpec) -> Path:
        """Where the entry for content ``sha`` under ``spec`` lives."""
        key = fingerprint({"spec": asdict(spec), "format": _FORMAT,
                           "decoder": decoding.DECODER_VERSION})
        return self.root / key / sha[:2] / f"{sha}.npy"

    def get(self, sha: str, spec: PreprocessSpec) -> np.ndarray | None:
        """The cached resized image (float32 in [0, 1]), or None on a miss or a bad entry."""
        if not self.enabled:
            return None
        try:
            stored = np.load(self.entry(sha, spec), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if stored.dtype != np.uint16 or stored.shape != (spec.size, spec.size):
            return None
        return stored.astype(np.float32) / 65535.0

    def put(self, sha: str, spec: PreprocessSpec, resized: np.ndarray) -> None:
        """Store a resized image atomically; a failing write only costs a decode later."""
        if not self.enabled:
            return
        buf = io.BytesIO()
        np.save(buf, np.round(np.clip(resized, 0.0, 1.0) * 65535.0).astype(np.uint16))
        try:
            write_entry(self.entry(sha, spec), buf.getvalue())
        except OSError:
            pass

    def load(self, path: str | Path, spec: PreprocessSpec, *,
             max_pixels: int = DEFAULT_MAX_PIXELS, lungs: LungSource | None = None
             ) -> np.ndarray:
        """Model input for one file, from the cache or decoded (and then cached).

        Equal to :func:`bamnet_core.imaging.decode.load_input` for the same file and spec.

        :param lungs: the run's lung-field source: a decode also describes the image with
            its fields and stores the fingerprint (:mod:`.property_cache`), unless one is
            stored already, so the audit decodes nothing. None: only decode.
        :raises ImageDecodeError: the file cannot be read or decoded.
        """
        p = Path(path)
        data = read_image_bytes(p)
        sha = content_hash(data)
        resized = self.get(sha, spec)
        if resized is not None:
            self.hits += 1
            return spec.finish(resized)
        if lungs is None or not self.enabled or recall_all(sha, lungs) is not None:
            gray = decode_bytes(p, data, max_pixels=max_pixels)
        else:  # the audit needs these; now they cost no second decode
            gray, props = decode_described(p, data, max_pixels=max_pixels, lungs=lungs)
            remember_fingerprint(sha, lungs, gray, props)
        resized = spec.resize(gray)
        self.put(sha, spec, resized)
        return spec.finish(resized)


