"""Content hashes and perceptual hashes of image files, computed once and cached.

Every file gets a SHA-256 of its bytes (exact duplicates, cache keys) and a
256-bit difference hash (dHash) of its decoded pixels (near duplicates: the
same image re-encoded, resized or lightly edited). The usual 64-bit dHash is
useless on chest X-rays: their coarse anatomy is so alike that unrelated
images collide (on 1,082 public CXRs, dozens of unrelated pairs had distance
0). At 16x16 cells after trimming 5% of each border, known duplicates differ
in 3-5 bits and the closest unrelated pair in 24. The dHash of a content
hash is stored with the image's properties under ``cache_dir("fingerprints")``
(:mod:`.property_cache`) so a later audit of the same files decodes nothing.
The dHash finds re-saves; copies that were cropped, padded or flipped are found
by the thumbnail stored beside it (:mod:`.copies`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .._util.progress import ProgressCallback, ProgressEvent, silent
from .._util.threads import default_workers
from ..errors import ImageDecodeError
from ..imaging.decode import decode_described, read_image_bytes
from ..imaging.limits import DEFAULT_MAX_PIXELS
from .copies import decode_thumbnail, encode_thumbnail, thumbnail
from .property_cache import recall_all, remember

DHASH_BITS = 256
_GRID = 16
_TRIM = 0.05


@dataclass(frozen=True)
class Fingerprint:
    """What identifies one image file's content.

    :param path: the file.
    :param sha256: hex digest of the file's bytes.
    :param dhash: 256-bit difference hash of the decoded pixels (an int).
    :param properties: cheap image properties
        (:func:`bamnet_core.imaging.properties.describe`).
    :param thumbnail: the copy-matching thumbnail (:func:`bamnet_core.data.copies.thumbnail`),
        or None where it was not computed.
    """

    path: str
    sha256: str
    dhash: int
    properties: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    thumbnail: np.ndarray | None = field(default=None, compare=False, repr=False)


def content_hash(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def dhash(gray: np.ndarray) -> int:
    """256-bit difference hash: is each of 16x16 cells brighter than its right neighbour?

    The border (5% each side) is trimmed first, since markers and frames
    live there. Robust to resizing, re-encoding and brightness changes.
    """
    gray = np.asarray(gray, dtype=np.float32)
    h, w = gray.shape[:2]
    dy, dx = int(h * _TRIM), int(w * _TRIM)
    if h - 2 * dy >= _GRID and w - 2 * dx >= _GRID + 1:
        gray = gray[dy:h - dy, dx:w - dx]
    small = cv2.resize(gray, (_GRID + 1, _GRID), interpolation=cv2.INTER_AREA)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def remember_fingerprint(sha: str, gray: np.ndarray, props: dict[str, Any]
                         ) -> tuple[int, np.ndarray]:
    """Compute the dHash and thumbnail of decoded pixels and store them with ``props`` for
    content ``sha``."""
    value = dhash(gray)
    thumb = thumbnail(gray)
    remember(sha, f"{value:0{DHASH_BITS // 4}x}", props, encode_thumbnail(thumb))
    return value, thumb


def _parse_dhash(text: str) -> int | None:
    try:
        return int(text, 16) if len(text) == DHASH_BITS // 4 else None
    except ValueError:
        return None


def fingerprint_file(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Fingerprint:
    """Fingerprint one file, decoding it only when its dHash, thumbnail or properties are
    not cached.

    :raises ImageDecodeError: the file cannot be read or decoded.
    """
    p = Path(path)
    data = read_image_bytes(p)
    sha = content_hash(data)
    found = recall_all(sha)
    value = _parse_dhash(found[0]) if found is not None else None
    thumb = decode_thumbnail(found[2]) if found is not None else None
    if found is None or value is None or thumb is None:
        gray, props = decode_described(p, data, max_pixels=max_pixels)
        value, thumb = remember_fingerprint(sha, gray, props)
    else:
        props = found[1]
    return Fingerprint(path=str(path), sha256=sha, dhash=value, properties=props,
                       thumbnail=thumb)


def fingerprint_files(
    paths: Sequence[str | Path],
    *,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: ProgressCallback = silent,
) -> tuple[dict[str, Fingerprint], list[ImageDecodeError]]:
    """Fingerprint many files on every core; failures are returned, never raised.

    :returns: path -> fingerprint for the files that decoded, and one error
        per file that did not.
    """
    def one(path: str | Path) -> Fingerprint | ImageDecodeError:
        try:
            return fingerprint_file(path, max_pixels=max_pixels)
        except ImageDecodeError as exc:
            return exc

    found: dict[str, Fingerprint] = {}
    errors: list[ImageDecodeError] = []
    total = len(paths)
    progress(ProgressEvent("fingerprint", 0, total, "hashing images"))
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        for i, result in enumerate(pool.map(one, paths)):
            if isinstance(result, ImageDecodeError):
                errors.append(result)
            else:
                found[result.path] = result
            if (i + 1) % 32 == 0 or i + 1 == total:
                progress(ProgressEvent("fingerprint", i + 1, total, "hashing images"))
    return found, errors
