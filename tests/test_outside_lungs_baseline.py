"""The outside-the-lungs baseline reads nothing inside the run's lung fields.

Chest phantoms whose classes differ only by opacities drawn inside their lungs,
everything else drawn alike, each patient standing off-centre (where a fixed,
centred lung shape misses much of the lungs): through the audit, with the run's
own lung fields, the baseline stays near chance, while the same statistics read
outside a fixed shape separate the classes. A marker just below a lung, on most
of one class: the baseline finds it. Properties read outside one source's lung
fields are never served from the cache to a run that uses another's.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from fixtures_images import NO_LUNGS_MARKED

from bamnet_core.contract import Sample
from bamnet_core.data.audit import audit_samples
from bamnet_core.data.fingerprints import fingerprint_file
from bamnet_core.data.loading import load_samples
from bamnet_core.data.lung_fields import LungFields, UserMasks, default_lung_fields
from bamnet_core.data.property_cache import cached_properties, entry_path
from bamnet_core.data.shortcut_baseline import shortcut_baseline
from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_core.imaging.properties import (
    PIXELS,
    UNREAD,
    LungSource,
    coarse_size,
    describe,
    pixels_of,
)
from bamnet_core.plugins import load_plugins
from bamnet_paper.phantoms import Anatomy, draw, random_anatomy

SIZE = 128


def known_lungs(anatomy: Anatomy, dx: int = 0) -> np.ndarray:
    """The lung ellipses ``draw`` paints for ``anatomy``, moved ``dx`` pixels (True inside)."""
    field = np.zeros((SIZE, SIZE), dtype=np.uint8)
    for side in (-1, 1):
        centre = (int((0.5 + side * anatomy.lung_gap) * SIZE) + dx, int(0.5 * SIZE))
        axes = (int(anatomy.lung_axes[0] * SIZE), int(anatomy.lung_axes[1] * SIZE))
        cv2.ellipse(field, centre, axes, 0, 0, 360, 1, -1)
    return field.astype(bool)


def centred_shape(gray: np.ndarray, path: Path | None = None) -> np.ndarray:
    """A fixed lung shape where a centred patient's lungs sit: what an audit that does not
    look at the image would take."""
    h, w = gray.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    x, y = (xx + 0.5) / w, (yy + 0.5) / h
    field = np.zeros((h, w), dtype=bool)
    for cx in (1 / 3, 2 / 3):
        field |= ((x - cx) / 0.16) ** 2 + ((y - 0.5) / 0.32) ** 2 <= 1.0
    return field


def off_centre_phantoms(root: Path, *, marker: bool, n: int = 160, seed: int = 0
                        ) -> tuple[list[Sample], Path]:
    """PNG chest phantoms under ``root`` and their true lung masks under ``root/masks``.

    Each patient stands 15-20% of the width left or right of centre. Covid images carry
    strong opacities inside the lungs; with ``marker``, 90% of them also a bright tag just
    below their left lung, outside its dilated field.
    """
    rng = np.random.default_rng(seed)
    (root / "masks").mkdir(parents=True)
    samples = []
    for i in range(n):
        covid = i % 2 == 1
        anatomy = random_anatomy(rng, positive=covid, opacity=2.5)
        dx = int(rng.choice([-1, 1]) * rng.uniform(0.15, 0.2) * SIZE)
        moved = np.float32([[1, 0, dx], [0, 1, 0]])
        image = cv2.warpAffine(draw(anatomy, rng, size=SIZE), moved, (SIZE, SIZE),
                               borderMode=cv2.BORDER_REPLICATE)
        lungs = known_lungs(anatomy, dx)
        if marker and covid and rng.random() < 0.9:
            ys, xs = np.nonzero(lungs[:, : int((0.5 + dx / SIZE) * SIZE)])
            below, centre = int(ys.max()) + 12, int(xs.mean())
            image[below:below + 6, centre - 6:centre + 6] = 250
        name = f"img{i:03d}.png"
        cv2.imwrite(str(root / name), image)
        cv2.imwrite(str(root / "masks" / name), lungs.astype(np.uint8) * 255)
        samples.append(Sample(path=str(root / name), label="covid" if covid else "normal",
                              patient_id=f"p{i}", source="one"))
    return samples, root / "masks"


def the_masks(folder: Path) -> LungSource:
    """The user's masks as the run's lung fields (``[lungs] masks``), no estimator."""
    return LungFields(None, UserMasks(folder)).source()


@pytest.fixture(scope="module")
def lungs_only(tmp_path_factory):
    return off_centre_phantoms(tmp_path_factory.mktemp("lungs-only"), marker=False)


def test_classes_that_differ_only_inside_off_centre_lungs_give_a_baseline_near_chance(
        lungs_only):
    samples, masks = lungs_only
    report = audit_samples(samples, duplicates=False, lungs=the_masks(masks), seed=0)
    found = report["shortcut_baseline"]
    assert abs(found["auc"] - 0.5) < 0.12, found
    assert not found["flagged"] and found["interval"][0] < 0.5 < found["interval"][1]
    assert found["reads"].endswith("pixel statistics outside its dilated lung fields "
                                   "(your masks)")
    # a fixed centred shape misses these lungs, and the opacities it leaves are read
    fixed = {}
    for sample in samples:
        image = cv2.imread(sample.path, cv2.IMREAD_GRAYSCALE)
        gray = image.astype(np.float32) / 255
        fixed[sample.path] = describe(gray, raw=image, data=b"x" * 1000, fmt="png",
                                      lungs=centred_shape(gray), lungs_from="fixed")
    assert shortcut_baseline(samples, fixed, seed=0)["auc"] > 0.8


def test_the_built_in_estimator_follows_off_centre_lungs(lungs_only):
    # no masks: the run's own estimator finds these lungs (the spine off centre, the
    # opacities strong), and the baseline still reads nothing of them
    samples, _ = lungs_only
    source = default_lung_fields(load_plugins().registry).source()
    found = audit_samples(samples, duplicates=False, lungs=source, seed=0)["shortcut_baseline"]
    assert not found["flagged"] and found["auc"] < 0.7, found
    assert found["reads"].endswith("outside its dilated lung fields (anatomical)")


def test_each_image_property_names_the_lung_fields_it_was_read_outside(lungs_only):
    samples, masks = lungs_only
    found = fingerprint_file(samples[0].path, lungs=the_masks(masks))
    assert found.properties["pixels"] == pixels_of("your masks") \
        == "outside the dilated lung fields (your masks)"


def test_a_marker_just_outside_off_centre_lungs_is_found(tmp_path):
    samples, masks = off_centre_phantoms(tmp_path, marker=True)
    found = audit_samples(samples, duplicates=False, lungs=the_masks(masks),
                          seed=0)["shortcut_baseline"]
    assert found["flagged"] and found["auc"] > 0.85, found


def test_pixel_statistics_ignore_the_dilated_lung_fields():
    gray = np.full((64, 64), 0.2, dtype=np.float32)
    lungs = np.zeros((64, 64), dtype=bool)
    lungs[16:48, 8:30] = True
    before = describe(gray, raw=None, data=b"x" * 100, fmt="png", lungs=lungs, lungs_from="t")
    gray[18:46, 10:28] = 0.9  # an opacity well inside the field
    gray[16:48, 8:30] = 0.9  # and up to its very edge: the dilation covers the blur beyond
    after = describe(gray, raw=None, data=b"x" * 100, fmt="png", lungs=lungs, lungs_from="t")
    assert after == before and after["pixels"] == f"{PIXELS} (t)"
    everywhere = describe(gray, raw=None, data=b"x" * 100, fmt="png",
                          lungs=np.ones((64, 64), dtype=bool), lungs_from="t")
    assert np.isnan(everywhere["mean"]) and everywhere["width"] == 64  # facts stay known


def test_without_lung_fields_no_pixel_statistic_is_read():
    gray = np.full((64, 64), 0.2, dtype=np.float32)
    found = describe(gray, raw=None, data=b"x" * 100, fmt="png", lungs=None)
    assert found["pixels"] == UNREAD and np.isnan(found["mean"]) and np.isnan(found["p50"])
    assert found["width"] == 64 and found["format"] == "png"  # never the whole image
    samples = [Sample(path=f"/{i}.png", label="ab"[i % 2], patient_id=f"p{i}", source="s")
               for i in range(20)]
    baseline = shortcut_baseline(samples, {s.path: found for s in samples}, seed=0)
    assert baseline["reads"].endswith("no pixel statistics (no lung fields)")


def test_two_lung_field_sources_never_share_cached_properties(tmp_path):
    image = np.full((64, 64), 60, dtype=np.uint8)
    image[:, 32:] = 200
    path = tmp_path / "half.png"
    cv2.imwrite(str(path), image)
    left = LungSource(name="left", tag="test-left",
                      field=lambda g, p: np.arange(g.shape[1])[None, :].repeat(g.shape[0], 0)
                      < g.shape[1] // 2)
    first = fingerprint_file(path, lungs=NO_LUNGS_MARKED)
    second = fingerprint_file(path, lungs=left)  # cached for the first source only
    assert first.properties["mean"] != pytest.approx(second.properties["mean"])
    assert second.properties["mean"] == pytest.approx(200 / 255, abs=0.01)  # right half only
    assert second.properties["pixels"] == pixels_of("left")
    assert entry_path(first.sha256, NO_LUNGS_MARKED) != entry_path(first.sha256, left)
    assert cached_properties(first.sha256, left) == second.properties
    assert cached_properties(first.sha256, NO_LUNGS_MARKED) == first.properties
    assert cached_properties(first.sha256, None) is None


def test_lung_field_tags_follow_the_estimator_its_options_and_the_masks(tmp_path):
    registry = load_plugins().registry
    default = default_lung_fields(registry)
    assert default.label == "anatomical" and default.tag.startswith("anatomical-")
    other = LungFields(default.estimator, name="anatomical", options={"x": 1})
    assert other.tag != default.tag

    class Newer:  # the same estimator, drawing other fields
        version = "another"
        estimate = default.estimator.estimate

    assert LungFields(Newer(), name="anatomical").tag != default.tag
    (tmp_path / "m").mkdir()
    mask = tmp_path / "m" / "a.png"
    cv2.imwrite(str(mask), np.zeros((8, 8), np.uint8))
    given = LungFields(default.estimator, UserMasks(tmp_path / "m"), name="anatomical")
    assert given.label == "your masks, else anatomical" and given.tag != default.tag
    cv2.imwrite(str(mask), np.full((8, 9), 255, np.uint8))  # a mask edited
    edited = LungFields(default.estimator, UserMasks(tmp_path / "m"), name="anatomical")
    assert edited.tag != given.tag


def test_a_decode_for_the_model_describes_the_image_for_the_audit(lungs_only):
    samples, masks = lungs_only
    source = the_masks(masks)
    loaded = load_samples(samples[:4], PreprocessSpec(size=32, channels=1), lungs=source)
    assert len(loaded.samples) == 4
    sha = fingerprint_file(samples[0].path, lungs=None).sha256
    assert cached_properties(sha, source)["pixels"] == pixels_of("your masks")


def test_a_resumed_run_audits_again_when_its_properties_read_the_lungs(tmp_path):
    from bamnet_core.experiment.stage_records import load_audit, save_properties
    from bamnet_core.runs import layout
    from bamnet_core.runs.files import AuditFile
    from bamnet_core.runs.folder import RunFolder

    run = RunFolder(tmp_path)
    run.write_model(layout.AUDIT, AuditFile(warnings=[]))
    image = np.full((32, 32), 128, np.uint8)
    now = describe(image / 255.0, raw=image, data=b"x" * 50, fmt="png",
                   lungs=np.zeros((32, 32), dtype=bool), lungs_from="anatomical")
    save_properties(run, {str(tmp_path / "a.png"): now})
    assert load_audit(run) is not None
    older = {k: v for k, v in now.items() if k != "pixels"}  # read over the whole image
    save_properties(run, {str(tmp_path / "a.png"): older})
    assert load_audit(run) is None
    stand_in = {**now, "pixels": PIXELS}  # outside a fixed shape, not the image's own fields
    save_properties(run, {str(tmp_path / "a.png"): stand_in})
    assert load_audit(run) is None


def test_the_built_in_estimator_does_not_shrink_with_opacities():
    estimator = default_lung_fields(load_plugins().registry)
    areas = {}
    for covid in (False, True):
        rng = np.random.default_rng(0)
        fields = [estimator.for_image(draw(random_anatomy(rng, positive=covid, opacity=2.5),
                                           rng, size=SIZE).astype(np.float32) / 255)
                  for _ in range(30)]
        areas[covid] = float(np.mean([f.mean() for f in fields]))
    assert areas[True] == pytest.approx(areas[False], rel=0.1)


def test_file_sizes_are_facts_at_the_scale_encoders_differ():
    assert coarse_size(11_600) == coarse_size(11_550)  # an opacity's few bytes: dropped
    assert coarse_size(11_600) != coarse_size(16_000)  # another encoder or quality: kept
    assert coarse_size(0) == 0
