"""Which images of a dataset did a run already see? By content, by copy, and by patient.

"External" data must be disjoint from the run that made the model. An image is
*seen* when its bytes equal one of the run's images (SHA-256), when it is a
*copy* of one (:mod:`.copies`: saved again as JPEG, resized, padded, cropped,
flipped left-right, made brighter or more contrasted), or when its patient is
one of the run's patients. Patient ids are compared only within one source
name, where they mean the same person. An image the run used in several roles
counts in the first of train, val, test (training is the strongest overlap);
within one role, an image match counts before a patient match.

An image match and a patient match are said differently: "3 images are copies
of images that trained this model" against "2 images are of patients whose
images trained this model".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..contract.sample import Sample
from .copies import DEFAULT_MIN_CORRELATION, find_copies
from .fingerprints import Fingerprint

ROLES = {"train": "trained this model", "val": "chose its epoch and threshold",
         "test": "are its test split"}
IMAGE_KINDS = ("content", "copy")  # the image itself; the rest ("patient") is its patient
_COPY_OF = {"train": ("a copy of an image that trained this model",
                      "copies of images that trained this model"),
            "val": ("a copy of an image that chose its epoch and threshold",
                    "copies of images that chose its epoch and threshold"),
            "test": ("a copy of one of its test images", "copies of its test images")}
_PATIENT_OF = {"train": "of patients whose images trained this model",
               "val": "of patients whose images chose its epoch and threshold",
               "test": "of patients in its test split"}


@dataclass
class Overlap:
    """What a dataset shares with a run.

    :param seen: path -> ``(split, how)`` for each image the run saw
        (``how``: ``"content"`` (same bytes), ``"copy"`` or ``"patient"``).
    :param kept: the samples the run never saw, in their original order.
    :param run_unread: the run's images that could not be read (moved, deleted, damaged):
        copies of them cannot be found, only their patients.
    """

    images: int
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)
    kept: list[Sample] = field(default_factory=list)
    run_unread: int = 0

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

    def images_matched(self) -> int:
        """How many seen images are the run's images (same bytes, or a copy)."""
        return sum(1 for _, how in self.seen.values() if how in IMAGE_KINDS)

    def sentence(self) -> str:
        """E.g. "3 images are copies of images that trained this model, 2 images are of
        patients whose images trained this model"; image and patient matches apart."""
        copies = dict.fromkeys(ROLES, 0)
        patients = dict.fromkeys(ROLES, 0)
        for split, how in self.seen.values():
            (copies if how in IMAGE_KINDS else patients)[split] += 1
        parts = []
        for split in ROLES:
            n = copies[split]
            if n:
                one, many = _COPY_OF[split]
                parts.append(f"1 image is {one}" if n == 1 else f"{n} images are {many}")
            n = patients[split]
            if n:
                verb = "image is" if n == 1 else "images are"
                parts.append(f"{n} {verb} {_PATIENT_OF[split]}")
        return ", ".join(parts) if parts else "none of these images was seen by the run"

    def to_dict(self) -> dict[str, object]:
        """The overlap as ``metrics.json`` records it."""
        return {"images": self.images, "excluded": len(self.seen), "kept": len(self.kept),
                "by_split": self.by_split(), "by_kind": self.by_kind(),
                "sentence": self.sentence(), "run_images_unread": self.run_unread,
                "disjoint_by": ["content hash", "copy (re-saved, resized, padded, cropped, "
                                "flipped, brightness or contrast changed)",
                                "patient id within a source"]}


def find_overlap(run_splits: Mapping[str, Sequence[Sample]], samples: Sequence[Sample],
                 prints: Mapping[str, Fingerprint], *,
                 min_correlation: float = DEFAULT_MIN_CORRELATION) -> Overlap:
    """Compare ``samples`` with the run's ``train``/``val``/``test`` samples.

    :param prints: path -> fingerprint for the run's images and ``samples`` that decoded
        (an image without one, or without a thumbnail, is compared by bytes and patient
        only).
    :param min_correlation: the aligned correlation from which an image is a copy
        (:func:`bamnet_core.data.copies.find_copies`).
    """
    order = [s for s in ROLES if s in run_splits]
    by_sha: dict[str, str] = {}
    patients: dict[tuple[str, str], str] = {}
    thumbs: dict[str, tuple[np.ndarray, str]] = {}  # sha -> thumbnail, first role
    for split in reversed(order):  # earlier roles overwrite later ones: train wins
        for s in run_splits[split]:
            if s.synthetic:
                continue
            patients[(s.source, s.patient_id)] = split
            fp = prints.get(s.path)
            if fp is not None:
                by_sha[fp.sha256] = split
                if fp.thumbnail is not None:
                    thumbs[fp.sha256] = (fp.thumbnail, split)
    copied = _copy_splits(samples, prints, by_sha, list(thumbs.values()),
                          min_correlation)
    result = Overlap(images=len(samples), run_unread=len({
        s.path for split in order for s in run_splits[split]
        if not s.synthetic and (s.path not in prints or prints[s.path].thumbnail is None)}))
    for i, s in enumerate(samples):
        fp = prints.get(s.path)
        found = []
        if fp is not None and fp.sha256 in by_sha:
            found.append((by_sha[fp.sha256], "content"))
        elif i in copied:
            found.append((copied[i], "copy"))
        if (s.source, s.patient_id) in patients:
            found.append((patients[(s.source, s.patient_id)], "patient"))
        if found:  # the first role; within it, the image before its patient
            result.seen[s.path] = min(found, key=lambda f: (order.index(f[0]),
                                                            f[1] not in IMAGE_KINDS))
        else:
            result.kept.append(s)
    return result


def _copy_splits(samples: Sequence[Sample], prints: Mapping[str, Fingerprint],
                 by_sha: Mapping[str, str], theirs: list[tuple[np.ndarray, str]],
                 min_correlation: float) -> dict[int, str]:
    """Sample index -> the split of the run image it is a copy of (same bytes left out)."""
    asked: list[int] = []
    for i, s in enumerate(samples):
        fp = prints.get(s.path)
        if fp is not None and fp.thumbnail is not None and fp.sha256 not in by_sha:
            asked.append(i)
    if not asked or not theirs:
        return {}
    queries = [prints[samples[i].path].thumbnail for i in asked]
    matches = find_copies(queries, [t for t, _ in theirs],  # type: ignore[misc]
                          min_correlation=min_correlation)
    return {asked[m.query]: theirs[m.reference][1] for m in matches}
