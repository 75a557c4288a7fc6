"""Occlusion and Grad-CAM bound their per-image work: how many images they take, which
ones, and that the occlusion intervals are those of the per-resample loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bamnet_core.contract import (
    EvaluationContext,
    Sample,
    SplitPredictions,
    bootstrap_metrics,
)
from bamnet_paper.evaluators import OcclusionEvaluator, fast_metrics
from bamnet_paper.evaluators.gradcam import pick_rows
from bamnet_paper.evaluators.occlusion import stratified_rows


def _context(tmp_path: Path, n: int, seen: list[int]) -> EvaluationContext:
    rng = np.random.default_rng(3)
    y = (np.arange(n) % 3 == 0).astype(int)  # a third positive
    probs = np.clip(0.3 * y[:, None] * [-1, 1] + rng.random((n, 2)), 0, 1)
    images = rng.random((n, 8, 8, 1)).astype(np.float32)
    images[:, 0, 0, 0] = y  # a corner outside the lungs: the masked score still sees the class
    lungs = np.zeros((n, 8, 8), dtype=bool)
    lungs[:, 2:6, 1:7] = True

    def predict(x: np.ndarray) -> np.ndarray:
        seen.append(len(x))
        p = np.clip(0.5 * x[:, 0, 0, 0] + 0.5 * x[:, -1, -1, 0], 0, 1)
        return np.stack([1 - p, p], axis=1)

    samples = [Sample(path=f"i{i}.png", label="x", patient_id=f"p{i // 2}", source="s")
               for i in range(n)]
    return EvaluationContext(split=SplitPredictions("test", y, probs, samples, images,
                                                    lung_fields=lungs),
                             class_names=["normal", "covid"], positive="covid",
                             threshold=0.5, bootstrap=300, seed=7, fill=0.5,
                             figures_dir=tmp_path, predict=predict)


def test_occlusion_masks_at_most_max_images_in_the_class_proportions(tmp_path):
    seen: list[int] = []
    context = _context(tmp_path, 150, seen)
    result = OcclusionEvaluator(max_images=30).evaluate_context(context).results
    assert seen == [30, 30] and result["images"] == {"occluded": 30, "of": 150}
    rows = stratified_rows(context.split.y_true, 30, 7)
    assert context.split.y_true[rows].sum() == 10  # a third of 30
    t = context.split.y_true[rows] == 1
    assert result["auc_full"] == pytest.approx(fast_metrics.roc_auc(t, context.split.y_prob[
        rows, 1]))


def test_every_image_is_occluded_under_the_cap_and_intervals_match_the_loop(tmp_path):
    seen: list[int] = []
    context = _context(tmp_path, 40, seen)
    result = OcclusionEvaluator().evaluate_context(context).results
    assert seen == [40, 40] and result["images"] == {"occluded": 40, "of": 40}
    split = context.split
    t = split.y_true == 1
    masked = context.predict(split.images)[:, 1]  # both corners lie outside the lungs

    def on(rows: np.ndarray) -> dict:  # what the evaluator computed before, per resample
        tr = t[rows]
        if not 0 < tr.sum() < len(tr):
            return {"auc_masked": None, "drop": None}
        hidden = fast_metrics.roc_auc(tr, masked[rows])
        return {"auc_masked": hidden,
                "drop": fast_metrics.roc_auc(tr, split.y_prob[rows, 1]) - hidden}

    loop = bootstrap_metrics(on, split.patients, 300, 7)
    for key in ("auc_masked", "drop"):
        got = result["masked_interval" if key == "auc_masked" else "drop_interval"]
        assert got == pytest.approx([loop[key]["low"], loop[key]["high"]], abs=1e-9)


def test_no_cap_occludes_every_image(tmp_path):
    seen: list[int] = []
    OcclusionEvaluator(max_images=0).evaluate_context(_context(tmp_path, 100, seen))
    assert seen == [100, 100]
    with pytest.raises(ValueError, match="max_images"):
        OcclusionEvaluator(max_images=-1)


def test_gradcam_keeps_the_most_confident_mistakes_past_the_cap():
    wrong = np.array([True, True, False, True, False, True, False])
    confidence = np.array([0.1, 0.4, 0.9, 0.3, 0.2, 0.05, 0.5])
    rows = pick_rows(wrong, 1, seed=0, confidence=confidence, max_wrong=2)
    assert set(rows[wrong[rows]]) == {1, 3} and (~wrong[rows]).sum() == 1
    every = pick_rows(wrong, 0, seed=0, confidence=confidence, max_wrong=0)
    assert list(every) == [0, 1, 3, 5]


@pytest.mark.parametrize("backbone", ["small-cnn", "vgg16"])
def test_gradcam_with_the_tape_on_the_tail_only_gives_the_same_maps(backbone):
    import keras

    from bamnet_paper.backbones.small_cnn import SmallCNN
    from bamnet_paper.backbones.vgg16 import VGG16Backbone
    from bamnet_paper.evaluators.gradcam_maps import gradcam

    keras.utils.set_random_seed(0)  # the same weights whatever ran before
    made = SmallCNN(filters=[4, 8], dense=8) if backbone == "small-cnn" else \
        VGG16Backbone(weights="none", head="pyimagesearch")
    model = made.build((32, 32, 3), 2)
    # each image for both classes: with two classes one score's gradient is the other's
    # negative, so one of the two maps is not all zero (a ReLU'd map may be, for random weights)
    images = np.random.default_rng(1).random((5, 32, 32, 3)).astype(np.float32)
    images, classes = np.concatenate([images, images]), np.array([0] * 5 + [1] * 5)
    tail, layer = gradcam(model, images, classes, made.gradcam_layer, batch_size=4)
    whole, _ = gradcam(model, images, classes, made.gradcam_layer, batch_size=4,
                       tail_only=False)
    assert layer == made.gradcam_layer and tail.shape == whole.shape and tail.max() > 0
    np.testing.assert_allclose(tail, whole, atol=1e-5)


def _conv_model(size: int, filters: int):
    import keras

    inp = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(filters, 3, padding="same")(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(2)(x))


def test_forward_flops_counts_convolutions_and_dense_layers():
    from bamnet_core.contract import forward_flops

    # 2 x (32*32 positions x 3*3*3 weights x 8 filters) + 2 x (8 x 2)
    assert forward_flops(_conv_model(32, 8)) == 2 * 32 * 32 * 27 * 8 + 2 * 8 * 2


def test_a_costly_model_gets_fewer_occluded_images_and_maps_within_the_budget():
    """The count follows the model's cost, not the machine: a cheap model keeps the caps, a
    costly one gets what the budget allows, never less than the floor; 0 turns it off."""
    from bamnet_paper.evaluators import GradCamEvaluator
    from bamnet_paper.evaluators.gradcam import LEAST_MISCLASSIFIED
    from bamnet_paper.evaluators.occlusion import LEAST_IMAGES

    cheap, costly = _conv_model(16, 4), _conv_model(512, 512)  # ~0.007 and ~7.25 GFLOP
    occlusion = OcclusionEvaluator(max_images=64, budget_gflop=200)  # two passes an image
    assert occlusion.limit(cheap) == 64
    assert occlusion.limit(costly) == LEAST_IMAGES  # 100 // 7.25 = 13, below the floor
    assert OcclusionEvaluator(max_images=64, budget_gflop=600).limit(costly) == 41
    assert OcclusionEvaluator(max_images=64, budget_gflop=0).limit(costly) == 64
    assert OcclusionEvaluator(max_images=0, budget_gflop=0).limit(costly) == 0  # 0 = all
    assert OcclusionEvaluator(max_images=0, budget_gflop=600).limit(costly) == 41  # no cap
    assert OcclusionEvaluator().limit(cheap) > 10_000  # the default: every image of a split
    assert OcclusionEvaluator(max_images=8, budget_gflop=1).limit(costly) == 8
    gradcam = GradCamEvaluator(max_misclassified=16, budget_gflop=30)
    assert gradcam.limit(cheap) == 16
    assert gradcam.limit(costly) == LEAST_MISCLASSIFIED  # 30 // 7.25 = 4
    assert GradCamEvaluator(max_misclassified=16, budget_gflop=80).limit(costly) == 11
    with pytest.raises(ValueError, match="budget_gflop"):
        OcclusionEvaluator(budget_gflop=float("nan"))
    with pytest.raises(ValueError, match="budget_gflop"):
        GradCamEvaluator(budget_gflop=-1)
