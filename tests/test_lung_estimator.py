"""The built-in lung-field estimator ``anatomical``: on the chest phantoms, whose lungs are
known ellipses, at model-input sizes, and unmoved by opacities inside the lungs."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from bamnet_paper.lungs.template import LEFT, RIGHT, AnatomicalLungFields, Outline
from bamnet_paper.phantoms import Anatomy, draw, random_anatomy

SEEDS = range(10)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float(np.logical_and(a, b).sum()) / float(a.sum() + b.sum())


def true_lungs(anatomy: Anatomy, size: int) -> np.ndarray:
    """The phantom's two lung ellipses, as :func:`bamnet_paper.phantoms.draw` places them."""
    mask = np.zeros((size, size), dtype=np.uint8)
    for side in (-1, 1):
        centre = (int((0.5 + side * anatomy.lung_gap) * size), int(0.5 * size))
        axes = (int(anatomy.lung_axes[0] * size), int(anatomy.lung_axes[1] * size))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)


def phantom(seed: int, size: int, *, opacity: float = 1.0) -> tuple[np.ndarray, np.ndarray,
                                                                     Anatomy]:
    """One patient drawn with its opacities and without them (same noise), in [0, 1]."""
    anatomy = random_anatomy(np.random.default_rng(seed), positive=True, opacity=opacity)
    clear = dataclasses.replace(anatomy, opacities=())
    sick = draw(anatomy, np.random.default_rng(100 + seed), size)
    well = draw(clear, np.random.default_rng(100 + seed), size)
    return sick.astype(np.float32) / 255, well.astype(np.float32) / 255, anatomy


@pytest.mark.parametrize("size", [256, 64])
def test_the_field_covers_the_phantoms_lungs(size: int):
    estimator = AnatomicalLungFields()
    scores = []
    for seed in SEEDS:
        _, well, anatomy = phantom(seed, size)
        field = estimator.estimate(well)
        assert field.shape == (size, size) and field.dtype == bool
        scores.append(dice(field, true_lungs(anatomy, size)))
    # the outline is a lung's, the phantom's lungs are ellipses: close, never the same
    assert min(scores) >= 0.70 and float(np.median(scores)) >= 0.75, scores


@pytest.mark.parametrize("size", [256, 64])
def test_opacities_inside_the_lungs_leave_the_field_nearly_as_it_was(size: int):
    estimator = AnatomicalLungFields()
    scores = [dice(estimator.estimate(sick), estimator.estimate(well))
              for sick, well, _ in (phantom(seed, size) for seed in SEEDS)]
    assert float(np.median(scores)) >= 0.95 and min(scores) >= 0.85, scores


def test_opacities_twice_as_strong_leave_the_field_its_size():
    # the sides an opacity can hide are placed by the parts of the boundary it leaves alone
    estimator = AnatomicalLungFields()
    ratios = []
    for seed in SEEDS:
        sick, well, _ = phantom(seed, 128, opacity=2.0)
        ratios.append(estimator.estimate(sick).sum() / estimator.estimate(well).sum())
    assert float(np.median(ratios)) >= 0.95 and 0.85 <= min(ratios) and max(ratios) <= 1.1, \
        ratios


def test_any_image_gets_a_field_of_its_own_size():
    estimator = AnatomicalLungFields()
    rng = np.random.default_rng(0)
    for image in (np.zeros((32, 32)), np.ones((90, 60)), rng.uniform(0, 1, (300, 200)),
                  phantom(0, 48)[0]):
        field = estimator.estimate(image.astype(np.float32))
        assert field.shape == image.shape and 0.05 < field.mean() < 0.7
    with pytest.raises(ValueError, match="greyscale"):
        estimator.estimate(np.zeros((8, 8, 3)))


def test_the_outlines_are_a_lungs_shape():
    for outline in (RIGHT, LEFT):
        points = outline.points()
        assert points.shape == (64, 2) and points.min() >= 0 and points.max() <= 1
    v, u = (np.mgrid[0:100, 0:100] + 0.5) / 100
    right, left = RIGHT.inside(u, v), LEFT.inside(u, v)
    assert right[90:, :50].sum() > left[90:, :50].sum()  # the heart's notch, left only
    assert right[:10].sum() < right[45:55].sum()  # narrower at the apex
    assert not Outline(heart=(0.5, 0.5)).inside(np.array([0.05]), np.array([0.95]))[0]
