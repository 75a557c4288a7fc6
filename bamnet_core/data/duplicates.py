"""Exact and near-duplicate images among fingerprints.

Exact duplicates share a SHA-256. Near duplicates have 256-bit dHashes within
a Hamming distance threshold (default 12 bits: on real chest X-rays known
duplicates differ by 3-5 bits, unrelated images by 24 or more). The near
search compares all pairs in chunks with numpy; it is quadratic, so for
hundreds of thousands of images run it per source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .fingerprints import DHASH_BITS, Fingerprint

DEFAULT_NEAR_THRESHOLD = 12
_CHUNK = 128


@dataclass(frozen=True)
class DuplicatePair:
    """Two files with the same or nearly the same content.

    :param a: path of the first file.
    :param b: path of the second file.
    :param kind: ``"exact"`` (same bytes) or ``"near"`` (similar pixels).
    :param distance: Hamming distance between their dHashes (0-256).
    """

    a: str
    b: str
    kind: str
    distance: int


def find_duplicates(prints: Sequence[Fingerprint], *,
                    threshold: int = DEFAULT_NEAR_THRESHOLD) -> list[DuplicatePair]:
    """Every exact pair, and every near pair within ``threshold`` bits, sorted.

    :param threshold: the largest Hamming distance counted as near; a
        negative value turns the near search off.
    """
    pairs: list[DuplicatePair] = []
    by_sha: dict[str, list[str]] = defaultdict(list)
    for fp in prints:
        by_sha[fp.sha256].append(fp.path)
    for paths in by_sha.values():
        paths.sort()
        pairs += [DuplicatePair(paths[0], other, "exact", 0) for other in paths[1:]]
    if threshold >= 0:
        pairs += _near_pairs(prints, threshold)
    return sorted(pairs, key=lambda p: (p.kind, p.distance, p.a, p.b))


def _near_pairs(prints: Sequence[Fingerprint], threshold: int) -> list[DuplicatePair]:
    """Pairs of different content whose dHashes differ by at most ``threshold`` bits."""
    unique: dict[str, Fingerprint] = {}
    for fp in sorted(prints, key=lambda f: f.path):
        unique.setdefault(fp.sha256, fp)  # one representative per exact group
    reps = list(unique.values())
    hashes = dhash_words(fp.dhash for fp in reps)
    out: list[DuplicatePair] = []
    for start in range(0, len(reps), _CHUNK):
        block = hashes[start:start + _CHUNK]
        dist = np.bitwise_count(block[:, None, :] ^ hashes[None, :, :]).sum(axis=-1)
        rows, cols = np.nonzero(dist <= threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if c > i:
                a, b = sorted((reps[i].path, reps[c].path))
                out.append(DuplicatePair(a, b, "near", int(dist[r, c])))
    return out


def dhash_words(values: Iterable[int]) -> np.ndarray:
    """dHashes as an ``(n, 4)`` uint64 array (256 bits in four words), for XOR distances."""
    raw = b"".join(int(v).to_bytes(DHASH_BITS // 8, "big") for v in values)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, DHASH_BITS // 64)
