"""The outside-the-lungs baseline reads nothing inside the lungs.

Chest phantoms whose classes differ only by opacities drawn inside known lung
ellipses, everything else drawn alike: the baseline stays near chance (while the
same statistics over the whole image separate the classes). A marker outside the
lungs on most of one class: the baseline finds it.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bamnet_core.contract import Sample
from bamnet_core.data.shortcut_baseline import shortcut_baseline
from bamnet_core.imaging import properties as props_module
from bamnet_core.imaging.properties import PIXELS, coarse_size, describe, intensity_stats
from bamnet_paper.phantoms import Anatomy, draw, random_anatomy

SIZE = 128


def known_lungs(anatomy: Anatomy) -> np.ndarray:
    """The lung ellipses ``draw`` paints for ``anatomy`` (True inside), at ``SIZE``."""
    field = np.zeros((SIZE, SIZE), dtype=np.uint8)
    for side in (-1, 1):
        centre = (int((0.5 + side * anatomy.lung_gap) * SIZE), int(0.5 * SIZE))
        axes = (int(anatomy.lung_axes[0] * SIZE), int(anatomy.lung_axes[1] * SIZE))
        cv2.ellipse(field, centre, axes, 0, 0, 360, 1, -1)
    return field.astype(bool)


def phantoms(*, marker: bool, seed: int = 0, n: int = 200
             ) -> tuple[list[Sample], list[np.ndarray], list[np.ndarray], list[bytes]]:
    """Samples, images, known lung fields and PNG bytes: strong opacities in the covid
    lungs; with ``marker``, a bright tag in the top-left corner of 90% of covid images."""
    rng = np.random.default_rng(seed)
    samples, images, fields, files = [], [], [], []
    for i in range(n):
        covid = i % 2 == 1
        anatomy = random_anatomy(rng, positive=covid, opacity=2.5)
        image = draw(anatomy, rng, size=SIZE)
        if marker and covid and rng.random() < 0.9:
            image[6:14, 6:18] = 250
        samples.append(Sample(path=f"/phantoms/{i}.png", label="covid" if covid else "normal",
                              patient_id=f"p{i}", source="one"))
        images.append(image)
        fields.append(known_lungs(anatomy))
        files.append(cv2.imencode(".png", image)[1].tobytes())
    return samples, images, fields, files


def baseline_of(samples, images, files, fields=None, *, whole: bool = False) -> dict:
    props = {}
    for k, (sample, image, data) in enumerate(zip(samples, images, files, strict=True)):
        gray = image.astype(np.float32) / 255
        found = describe(gray, raw=image, data=data, fmt="png",
                         lungs=None if fields is None else fields[k])
        if whole:  # the same statistics over the whole image, lungs included
            found.update(intensity_stats(gray))
        props[sample.path] = found
    return shortcut_baseline(samples, props, seed=0)


@pytest.fixture(scope="module")
def lungs_only():
    return phantoms(marker=False)


def test_classes_that_differ_only_inside_the_lungs_give_a_baseline_near_chance(lungs_only):
    samples, images, fields, files = lungs_only
    whole = baseline_of(samples, images, files, fields, whole=True)
    assert whole["auc"] > 0.9  # the opacities are there to be read, lungs included
    for given in (fields, None):  # the known ellipses, then the image's own lung field
        found = baseline_of(samples, images, files, given)
        assert abs(found["auc"] - 0.5) < 0.12, found
        assert not found["flagged"] and found["interval"][0] < 0.5 < found["interval"][1]


def test_a_marker_outside_the_lungs_is_found():
    samples, images, _, files = phantoms(marker=True)
    found = baseline_of(samples, images, files)
    assert found["flagged"] and found["auc"] > 0.85, found


def test_pixel_statistics_ignore_the_dilated_lung_fields():
    gray = np.full((64, 64), 0.2, dtype=np.float32)
    lungs = np.zeros((64, 64), dtype=bool)
    lungs[16:48, 8:30] = True
    before = describe(gray, raw=None, data=b"x" * 100, fmt="png", lungs=lungs)
    gray[18:46, 10:28] = 0.9  # an opacity well inside the field
    gray[16:48, 8:30] = 0.9  # and up to its very edge: the dilation covers the blur beyond
    after = describe(gray, raw=None, data=b"x" * 100, fmt="png", lungs=lungs)
    assert after == before and after["pixels"] == PIXELS
    everywhere = describe(gray, raw=None, data=b"x" * 100, fmt="png",
                          lungs=np.ones((64, 64), dtype=bool))
    assert np.isnan(everywhere["mean"]) and everywhere["width"] == 64  # facts stay known


def test_file_sizes_are_facts_at_the_scale_encoders_differ():
    assert coarse_size(11_600) == coarse_size(11_550)  # an opacity's few bytes: dropped
    assert coarse_size(11_600) != coarse_size(16_000)  # another encoder or quality: kept
    assert coarse_size(0) == 0


def test_the_lung_field_of_one_image_comes_from_one_place():
    """The audit's lung field for a decoded image is ``properties.field_of_image`` (one
    import); it marks the lungs of a frontal chest phantom as lungs."""
    rng = np.random.default_rng(1)
    anatomy = random_anatomy(rng, positive=False, opacity=1.0)
    image = draw(anatomy, rng, size=SIZE)
    gray = image.astype(np.float32) / 255
    field = props_module.field_of_image(gray)
    assert field.shape == image.shape and field.dtype == bool
    outside = props_module.lung_field_outside(gray)
    assert not (known_lungs(anatomy) & outside).any()  # dilated, it covers the lungs
