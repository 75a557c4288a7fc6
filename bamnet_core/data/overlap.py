"""Which images of a dataset did a run already see? By content, near-duplicate, and patient.

"External" data must be disjoint from the run that made the model. An image is
*seen* when its bytes equal one of the run's images (SHA-256), when its pixels
are a near copy of one (dHash within the duplicate threshold: a re-save, a
resize), or when its patient is one of the run's patients. Patient ids are
compared only within one source name, where they mean the same person.
An image the run used in several roles counts in the first of train, val,
test: training is the strongest overlap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..contract.sample import Sample
from .duplicates import DEFAULT_NEAR_THRESHOLD, dhash_words
from .fingerprints import Fingerprint

ROLES = {"train": "trained this model", "val": "chose its epoch and threshold",
         "test": "are its test split"}
_CHUNK = 512


@dataclass
class Overlap:
    """What a dataset shares with a run.

    :param seen: path -> ``(split, how)`` for each image the run saw
        (``how``: ``"content"``, ``"near-duplicate"`` or ``"patient"``).
    :param kept: the samples the run never saw, in their original order.
    """

    images: int
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)
    kept: list[Sample] = field(default_factory=list)

    def by_split(self) -> dict[str, int]:
        """How many seen images each of the run's splits accounts for."""
        counts = dict.fromkeys(ROLES, 0)
        for split, _ in self.seen.values():
            counts[split] += 1
        return {k: v for k, v in counts.items() if v}

    def by_kind(self) -> dict[str, int]:
        """How many seen images each kind of match found."""
        counts: dict[str, int] = {}
        for _, how in self.seen.values():
            counts[how] = counts.get(how, 0) + 1
        return counts

    def sentence(self) -> str:
        """E.g. "647 of these images trained this model, 217 chose its epoch ..."."""
        parts = [f"{n} {'of these images ' if i == 0 else ''}{ROLES[s]}"
                 for i, (s, n) in enumerate(self.by_split().items())]
        return ", ".join(parts) if parts else "none of these images was seen by the run"

    def to_dict(self) -> dict[str, object]:
        """The overlap as ``metrics.json`` records it."""
        return {"images": self.images, "excluded": len(self.seen), "kept": len(self.kept),
                "by_split": self.by_split(), "by_kind": self.by_kind(),
                "sentence": self.sentence(),
                "disjoint_by": ["content hash", "near-duplicate hash",
                                "patient id within a source"]}


def find_overlap(run_splits: Mapping[str, Sequence[Sample]], samples: Sequence[Sample],
                 prints: Mapping[str, Fingerprint], *,
                 threshold: int = DEFAULT_NEAR_THRESHOLD) -> Overlap:
    """Compare ``samples`` with the run's ``train``/``val``/``test`` samples.

    :param prints: path -> fingerprint for the run's images and ``samples`` that decoded
        (an image without one is compared by patient only).
    :param threshold: the largest dHash distance (bits) counted as a near copy.
    """
    order = [s for s in ROLES if s in run_splits]
    by_sha: dict[str, str] = {}
    patients: dict[tuple[str, str], str] = {}
    hashes: list[int] = []
    hash_split: list[str] = []
    for split in reversed(order):  # earlier roles overwrite later ones: train wins
        for s in run_splits[split]:
            if s.synthetic:
                continue
            patients[(s.source, s.patient_id)] = split
            fp = prints.get(s.path)
            if fp is not None:
                by_sha[fp.sha256] = split
                hashes.append(fp.dhash)
                hash_split.append(split)
    near = _near_splits([prints[s.path].dhash if s.path in prints else None for s in samples],
                        hashes, hash_split, threshold, order)
    result = Overlap(images=len(samples))
    for s, near_split in zip(samples, near, strict=True):
        fp = prints.get(s.path)
        found = []
        if fp is not None and fp.sha256 in by_sha:
            found.append((by_sha[fp.sha256], "content"))
        if near_split is not None:
            found.append((near_split, "near-duplicate"))
        if (s.source, s.patient_id) in patients:
            found.append((patients[(s.source, s.patient_id)], "patient"))
        if found:
            result.seen[s.path] = min(found, key=lambda f: order.index(f[0]))
        else:
            result.kept.append(s)
    return result


def _near_splits(candidates: list[int | None], hashes: list[int], splits: list[str],
                 threshold: int, order: list[str]) -> list[str | None]:
    """For each candidate dHash, the first-role split holding a near copy, or None."""
    out: list[str | None] = [None] * len(candidates)
    known = [i for i, h in enumerate(candidates) if h is not None]
    if not known or not hashes or threshold < 0:
        return out
    theirs = dhash_words(hashes)
    rank = np.array([order.index(s) for s in splits])
    mine = dhash_words(candidates[i] for i in known)
    for start in range(0, len(known), _CHUNK):
        block = mine[start:start + _CHUNK]
        dist = np.bitwise_count(block[:, None, :] ^ theirs[None, :, :]).sum(axis=-1)
        close = dist <= threshold
        for r in np.flatnonzero(close.any(axis=1)).tolist():
            out[known[start + r]] = order[int(rank[close[r]].min())]
    return out
