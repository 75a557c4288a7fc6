"""Run-time guarantees of the generator stage: what the GAN saw, and where its images went.

These are checked on every run, not assumed: a violation stops the run with
a :class:`LeakageError` before any classifier trains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..contract.sample import Sample
from ..data.splits import PatientSplit
from ..errors import RunError


class LeakageError(RunError):
    """Synthetic images reached validation or test, or the generator saw held-out images."""


def _held_out(split: PatientSplit) -> list[Sample]:
    return [s for name in ("val", "test") for s in split.assignment.get(name, [])]


def check_generator_inputs(split: PatientSplit, fitted_on: Sequence[Sample]) -> dict[str, Any]:
    """Refuse a generator training set with a validation or test image (or patient).

    With a patient split, no patient of validation or test may be among the
    generator's images; with the paper's image-level split (leaky by design)
    no held-out *image* may be, and the patient overlap is reported.
    """
    held = _held_out(split)
    held_paths = {s.path for s in held}
    held_patients = {s.patient_id for s in held}
    if any(s.synthetic for s in fitted_on):
        raise LeakageError("the generator was about to train on synthetic images",
                           hint="this is a bug in bamnet: report it")
    shared_images = sorted({s.path for s in fitted_on} & held_paths)
    shared_patients = sorted({s.patient_id for s in fitted_on} & held_patients)
    if shared_images or (split.by == "patient" and shared_patients):
        example = (shared_images or shared_patients)[0]
        raise LeakageError(f"the generator's training images include validation or test data "
                           f"(e.g. {example})", hint="this is a bug in bamnet: report it")
    return {"images": len(fitted_on), "patients": len({s.patient_id for s in fitted_on}),
            "held_out_images_seen": 0, "held_out_patients_seen": len(shared_patients)}


def check_synthetic_placement(split: PatientSplit) -> int:
    """Refuse a split with a synthetic image outside training; return how many are in training."""
    leaked = [s for s in _held_out(split) if s.synthetic]
    if leaked:
        raise LeakageError(f"{len(leaked)} synthetic image(s) are in validation or test "
                           f"(e.g. {leaked[0].path})",
                           hint="synthetic images belong in training only; this is a bug in "
                                "bamnet or in the dataset source that marked them synthetic")
    return sum(s.synthetic for s in split.assignment["train"])
