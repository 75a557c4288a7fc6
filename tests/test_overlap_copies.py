"""Copies of a run's images are found however they were saved again; other images are not.

Each kind of copy in the overlap check's promise
(:data:`bamnet_core.testing.copy_edits.COPY_EDITS`: saved as JPEG at quality 50
or 60, resized from 80% to 120%, padded, cropped up to 10% a side, flipped
left-right, brightness or contrast changed by up to 20%, and a couple of these
together) is made from one of a run's training images, written to a file, and
compared with the run the way ``bamnet evaluate`` compares it
(:func:`bamnet_core.data.overlap.find_overlap` on the files' fingerprints).
The images are chest phantoms with a texture of their own, as real images have.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bamnet_core.contract.sample import Sample
from bamnet_core.data.copies import find_copies, thumbnail
from bamnet_core.data.fingerprints import fingerprint_files
from bamnet_core.data.overlap import find_overlap
from bamnet_core.testing.copy_edits import COPY_EDITS
from bamnet_paper.phantoms import draw, random_anatomy

SIZE = 256


def phantom(seed: int) -> np.ndarray:
    """A chest phantom of its own patient with its own fine texture, uint8."""
    rng = np.random.default_rng(seed)
    image = draw(random_anatomy(rng, positive=bool(seed % 2), opacity=1.0), rng, SIZE)
    texture = cv2.GaussianBlur(rng.normal(0.0, 1.0, (SIZE, SIZE)).astype(np.float32),
                               (0, 0), 4.0)
    texture *= 25.0 / float(texture.std())  # the phantoms' ribs alone are too much alike
    return np.clip(image.astype(np.float32) + texture, 0, 255).astype(np.uint8)


def _sample(path: Path, patient: str, label: str = "normal") -> Sample:
    return Sample(path=str(path), label=label, patient_id=patient, source="site")


@pytest.fixture(scope="module")
def run_splits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Sample]]:
    """A run's splits: 12 training images, 3 validation and 3 test, one patient each."""
    folder = tmp_path_factory.mktemp("run-images")
    splits: dict[str, list[Sample]] = {"train": [], "val": [], "test": []}
    for i in range(18):
        path = folder / f"run-{i}.png"
        cv2.imwrite(str(path), phantom(i))
        split = "train" if i < 12 else "val" if i < 15 else "test"
        splits[split].append(_sample(path, f"p{i}", "covid" if i % 2 else "normal"))
    return splits


def _overlap(run_splits: dict[str, list[Sample]], samples: list[Sample]):
    run_paths = [s.path for part in run_splits.values() for s in part]
    prints, errors = fingerprint_files([*run_paths, *(s.path for s in samples)])
    assert not errors
    return find_overlap(run_splits, samples, prints)


def _unrelated(folder: Path, n: int = 3) -> list[Sample]:
    out = []
    for i in range(n):
        path = folder / f"new-{i}.png"
        cv2.imwrite(str(path), phantom(1_000 + i))
        out.append(_sample(path, f"new-{i}"))
    return out


@pytest.mark.parametrize("kind", list(COPY_EDITS))
def test_a_copy_of_a_training_image_is_found_and_unrelated_images_are_kept(
        kind: str, run_splits: dict[str, list[Sample]], tmp_path: Path):
    original = cv2.imread(run_splits["train"][3].path, cv2.IMREAD_GRAYSCALE)
    copy = tmp_path / "copy.png"  # a JPEG edit's pixels are those the JPEG file decodes to
    cv2.imwrite(str(copy), COPY_EDITS[kind](original))
    samples = [_sample(copy, "someone-else"), *_unrelated(tmp_path)]
    overlap = _overlap(run_splits, samples)
    assert overlap.seen == {str(copy): ("train", "copy")}, kind
    assert [s.path for s in overlap.kept] == [s.path for s in samples[1:]]
    assert overlap.sentence() == "1 image is a copy of an image that trained this model"


def test_the_same_bytes_are_a_content_match(run_splits: dict[str, list[Sample]]):
    again = run_splits["val"][0]
    overlap = _overlap(run_splits, [_sample(Path(again.path), "someone-else")])
    assert overlap.seen == {again.path: ("val", "content")}
    assert overlap.sentence() == ("1 image is a copy of an image that chose its epoch and "
                                  "threshold")


def test_a_patient_match_is_worded_as_one_apart_from_copies(
        run_splits: dict[str, list[Sample]], tmp_path: Path):
    copies = []
    for i in range(2):
        path = tmp_path / f"copy-{i}.png"
        original = cv2.imread(run_splits["train"][i].path, cv2.IMREAD_GRAYSCALE)
        cv2.imwrite(str(path), original[:, ::-1])
        copies.append(_sample(path, "someone-else"))
    seen_patients = []
    for i in range(3):  # new images of patients the run trained on
        path = tmp_path / f"again-{i}.png"
        cv2.imwrite(str(path), phantom(2_000 + i))
        seen_patients.append(_sample(path, run_splits["train"][5 + i].patient_id))
    test_patient = tmp_path / "test-patient.png"
    cv2.imwrite(str(test_patient), phantom(3_000))
    samples = [*copies, *seen_patients, _sample(test_patient, run_splits["test"][0].patient_id),
               *_unrelated(tmp_path, 2)]
    overlap = _overlap(run_splits, samples)
    assert overlap.sentence() == (
        "2 images are copies of images that trained this model, 3 images are of patients "
        "whose images trained this model, 1 image is of patients in its test split")
    assert "these images" not in overlap.sentence()
    assert overlap.by_kind() == {"copy": 2, "patient": 4}
    assert len(overlap.kept) == 2
    record = overlap.to_dict()
    assert record["excluded"] == 6 and record["kept"] == 2


def test_phantoms_of_other_patients_are_not_copies_of_each_other():
    thumbs = [thumbnail(phantom(seed).astype(np.float32) / 255.0) for seed in range(40)]
    assert find_copies(thumbs[:20], thumbs[20:]) == []
    found = find_copies(thumbs[:20], thumbs[:20])  # each is its own copy, and only that
    assert [(m.query, m.reference) for m in found] == [(i, i) for i in range(20)]


def test_run_images_that_cannot_be_read_are_counted_not_silently_skipped(
        run_splits: dict[str, list[Sample]], tmp_path: Path):
    gone = _sample(tmp_path / "moved-away.png", "p-gone")
    splits = {**run_splits, "train": [*run_splits["train"], gone]}
    samples = _unrelated(tmp_path, 2)
    run_paths = [s.path for part in splits.values() for s in part]
    prints, errors = fingerprint_files([*run_paths, *(s.path for s in samples)])
    assert len(errors) == 1
    overlap = find_overlap(splits, samples, prints)
    assert overlap.run_unread == 1 and overlap.to_dict()["run_images_unread"] == 1
    assert len(overlap.kept) == 2
