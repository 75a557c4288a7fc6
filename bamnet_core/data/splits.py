"""Patient-grouped, stratified train/validation/test splits.

By default every image of a patient lands in the same split, so a model is
never validated on a patient it trained on. ``by = "image"`` splits image by
image, exactly as the BAM-NET paper did; it leaks and reports say so.
"""

from __future__ import annotations

import io
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .._util.csv_text import CsvWriter
from ..contract.sample import Sample
from ..errors import DataError

SPLIT_NAMES = ("train", "val", "test")


@dataclass
class PatientSplit:
    """Samples assigned to splits.

    :param assignment: split name -> samples, for ``train``, ``val`` and ``test``.
    :param by: ``"patient"`` or ``"image"`` (leaky).
    :param seed: the seed the shuffle used.
    """

    assignment: dict[str, list[Sample]]
    by: str
    seed: int
    notes: list[str] = field(default_factory=list)

    @property
    def leaky(self) -> bool:
        """True when one patient's images can sit in two splits."""
        return self.by == "image"

    def patients_in_several_splits(self) -> dict[str, list[str]]:
        """patient_id -> splits, for every patient found in more than one split."""
        seen: dict[str, set[str]] = defaultdict(set)
        for name, samples in self.assignment.items():
            for s in samples:
                seen[s.patient_id].add(name)
        return {p: sorted(v) for p, v in seen.items() if len(v) > 1}

    def counts(self) -> dict[str, dict[str, int]]:
        """split -> class -> image count."""
        return {name: dict(Counter(s.label for s in samples))
                for name, samples in self.assignment.items()}

    def to_csv(self) -> str:
        """One row per image: split and provenance (the run folder's ``splits.csv``)."""
        out = io.StringIO()
        fields = ["split", "path", "label", "patient_id", "source", "view", "age", "sex",
                  "synthetic", "generator", "generator_seed"]
        # the generator's checkpoint and index are in generator/synthetic.csv
        writer = CsvWriter(out, fields)
        writer.writeheader()
        for name in SPLIT_NAMES:
            for s in self.assignment.get(name, []):
                writer.writerow({"split": name, **s.to_row()})
        return out.getvalue()


def split_samples(
    samples: Sequence[Sample],
    *,
    val: float,
    test: float = 0.0,
    seed: int = 0,
    by: Literal["patient", "image"] = "patient",
) -> PatientSplit:
    """Split samples into train/val/test, stratified by class and grouped by patient.

    Patients are shuffled with ``seed`` within each class (a patient's class
    is the most common label among its images) and dealt to ``val`` and
    ``test`` until each holds its fraction of that class's images; the rest
    train. Every class with at least two groups gets at least one validation
    group.

    :raises DataError: if there are no samples.
    """
    if not samples:
        raise DataError("no samples to split", hint="check the [data] section of the config")
    groups: dict[str, list[Sample]] = defaultdict(list)
    for i, s in enumerate(samples):
        groups[s.patient_id if by == "patient" else f"{s.path}#{i}"].append(s)
    by_class: dict[str, list[str]] = defaultdict(list)
    for gid in sorted(groups):
        label = Counter(s.label for s in groups[gid]).most_common(1)[0][0]
        by_class[label].append(gid)
    rng = random.Random(seed)
    assignment: dict[str, list[Sample]] = {name: [] for name in SPLIT_NAMES}
    notes: list[str] = []
    for label in sorted(by_class):
        gids = by_class[label]
        rng.shuffle(gids)
        total = sum(len(groups[g]) for g in gids)
        targets = {"val": val * total, "test": test * total}
        taken = {"val": 0, "test": 0}
        in_train = 0
        for idx, gid in enumerate(gids):
            size = len(groups[gid])
            may_leave_train = in_train > 0 or idx < len(gids) - 1
            dest = "train"
            for name in ("val", "test"):
                if targets[name] <= 0 or not may_leave_train:
                    continue
                # the first group always goes, so small classes still get validated
                if taken[name] == 0 or taken[name] + size / 2 <= targets[name]:
                    dest = name
                    break
            if dest == "train":
                in_train += size
            else:
                taken[dest] += size
            assignment[dest].extend(groups[gid])
        if len(gids) < 2:
            unit = "patient" if by == "patient" else "image"
            notes.append(f"class {label!r} has a single {unit}; it is only in the training split")
    for name in SPLIT_NAMES:
        assignment[name].sort(key=lambda s: s.path)
    return PatientSplit(assignment=assignment, by=by, seed=seed, notes=notes)


def split_holding_out(samples: Sequence[Sample], source: str, *, val: float, seed: int = 0,
                      by: Literal["patient", "image"] = "patient") -> PatientSplit:
    """Test on one source, train and validate on the others: external validation.

    Every image of ``source`` is the test split; the rest is split into train
    and validation as :func:`split_samples` does. A patient with images in
    ``source`` and elsewhere is kept out of training and validation, so no
    test patient is trained on. Leave-one-source-out repeats this per source.

    :raises DataError: for a source the data does not have, or when nothing
        is left to train on.
    """
    known = sorted({s.source for s in samples})
    if source not in known:
        raise DataError(f"split.hold_out_source = {source!r}: the data has no such source",
                        hint=f"the sources are: {', '.join(known)}")
    held = [s for s in samples if s.source == source]
    patients = {s.patient_id for s in held}
    rest = [s for s in samples if s.source != source and s.patient_id not in patients]
    if not rest:
        raise DataError(f"holding out source {source!r} leaves nothing to train on",
                        hint="hold out another source, or add data from other sources")
    split = split_samples(rest, val=val, test=0.0, seed=seed, by=by)
    split.assignment["test"] = sorted(held, key=lambda s: s.path)
    dropped = sum(1 for s in samples if s.source != source and s.patient_id in patients)
    split.notes.append(f"test split = source {source!r} ({len(held)} images, classes "
                       f"{', '.join(sorted({s.label for s in held}))}); trained on the other "
                       "sources" + (f"; {dropped} image(s) of its patients found in other "
                                    "sources were left out" if dropped else ""))
    return split
