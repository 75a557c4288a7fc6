"""Taking a fixed number of images per class, whole patients first (the paper's 25 + 25 start)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from ..contract.sample import Sample


def limit_per_class(samples: Sequence[Sample], limit: int, seed: int) -> list[Sample]:
    """At most ``limit`` images of each class, drawn by patient in a seeded order.

    Patients of a class are shuffled with ``seed`` and taken whole while they fit, so a
    patient's images stay together; the last patient taken may be cut to make ``limit``
    exactly. The result keeps the input order.
    """
    by_class: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, s in enumerate(samples):
        by_class[s.label][s.patient_id].append(i)
    keep: set[int] = set()
    rng = random.Random(seed)
    for label in sorted(by_class):
        patients = sorted(by_class[label])
        rng.shuffle(patients)
        taken = 0
        for patient in patients:
            if taken >= limit:
                break
            chosen = by_class[label][patient][: limit - taken]
            keep.update(chosen)
            taken += len(chosen)
    return [s for i, s in enumerate(samples) if i in keep]
