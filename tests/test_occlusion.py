"""Occlusion hides each image's own lung fields, then everything but them, with the run's
one fill value, and its verdict line reads both: a model that reads a marker outside the
lungs is shortcut evidence, one that reads the lungs is not, and every number in the line
agrees with its words."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bamnet_core.contract import EvaluationContext, Sample, SplitPredictions
from bamnet_paper.evaluators import OcclusionEvaluator
from bamnet_paper.evaluators.occlusion import grow, hide, shrink

SIZE = 16
FILL = 0.25


def lung_fields(n: int) -> np.ndarray:
    """Two lung ellipses a frame, the same for every image (masks made here, not estimated)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    one = np.zeros((SIZE, SIZE), dtype=bool)
    for cx in (4.5, 11.5):
        one |= ((xx - cx) / 3.0) ** 2 + ((yy - 8) / 5.5) ** 2 <= 1
    return np.repeat(one[None], n, axis=0)


def data(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images with an opacity inside the lungs and a marker below them (outside), both in the
    positives only; labels; and the lung fields."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(int)
    images = rng.normal(0.4, 0.02, (n, SIZE, SIZE, 1)).astype(np.float32)
    lungs = lung_fields(n)
    images[..., 0][lungs & (y[:, None, None] == 1)] += 0.3  # opacity: inside the lungs only
    images[y == 1, 14:16, 0:2, 0] = 1.0  # marker: a corner outside the lungs
    return images, y, lungs


def reads(where: str):
    """A "model" scoring the positive class from the lungs' mean or the marker corner."""

    def predict(x: np.ndarray) -> np.ndarray:
        if where == "lungs":
            p = np.clip((x[..., 0][lung_fields(len(x))].reshape(len(x), -1).mean(1) - 0.3), 0, 1)
        elif where == "marker":
            p = np.clip(x[:, 14:16, 0:2, 0].mean(axis=(1, 2)) - 0.2, 0, 1)
        else:  # "both": needs the opacity and the marker together
            inside = x[..., 0][lung_fields(len(x))].reshape(len(x), -1).mean(1)
            corner = x[:, 14:16, 0:2, 0].mean(axis=(1, 2))
            p = ((inside > 0.55) & (corner > 0.9)).astype(float) * 0.9 + 0.05
        return np.stack([1 - p, p], axis=1)

    return predict


def context(tmp_path: Path, where: str, *, fields: bool = True, fill: float | None = FILL,
            noise: bool = False) -> EvaluationContext:
    images, y, lungs = data()
    predict = reads(where)
    probs = predict(images)
    if noise:  # a model that separates nothing
        probs = np.random.default_rng(1).random((len(y), 2))
    samples = [Sample(path=f"i{i}.png", label="covid" if t else "normal", patient_id=f"p{i}",
                      source="s") for i, t in enumerate(y)]
    split = SplitPredictions("test", y, probs, samples, images,
                             lung_fields=lungs if fields else None)
    return EvaluationContext(split=split, class_names=["normal", "covid"], positive="covid",
                             threshold=0.5, seed=3, bootstrap=200, figures_dir=tmp_path,
                             predict=predict, fill=fill)


def line(tmp_path: Path, where: str, **kwargs) -> tuple[dict, object]:
    findings = OcclusionEvaluator().evaluate_context(context(tmp_path, where, **kwargs))
    return findings.results, findings.evidence[0]


def test_a_model_reading_a_marker_outside_the_lungs_is_strong_evidence(tmp_path):
    results, found = line(tmp_path, "marker")
    assert found.level == "strong" and "outside the lungs" in found.meaning
    assert results["auc_masked"] == pytest.approx(1.0)  # the marker survives the lungs hidden
    assert results["auc_lungs_only"] == pytest.approx(0.5)  # and is gone with only the lungs
    assert "(all of its separation kept)" in found.finding
    assert "only the lungs 0.50" in found.finding and "(none kept)" in found.finding


def test_a_model_reading_the_lungs_is_no_evidence_and_says_it_reads_the_lungs(tmp_path):
    results, found = line(tmp_path, "lungs")
    assert found.level == "none", found
    assert results["auc_masked"] == pytest.approx(0.5) and results["auc_lungs_only"] == 1.0
    assert "what it reads is in the lungs" in found.meaning
    assert "with the lungs hidden it keeps none of its separation" in found.meaning


def test_a_model_that_needs_both_regions_is_inconclusive_not_none(tmp_path):
    _, found = line(tmp_path, "both")
    assert found.level == "info" and "cannot say where it reads" in found.meaning


def test_a_model_that_does_not_separate_is_not_measured(tmp_path):
    results, found = line(tmp_path, "marker", noise=True)
    assert found.finding == "not measured"
    assert found.meaning.startswith("the model does not separate the classes (ROC AUC 0.")
    assert "drop" not in found.meaning and "loses" not in found.meaning


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"fields": False}, "no lung fields"),
    ({"fill": None}, "recorded no fill"),
])
def test_without_lung_fields_or_a_fill_the_line_says_not_measured_and_why(tmp_path, kwargs,
                                                                           reason):
    results, found = line(tmp_path, "marker", **kwargs)
    assert found.level == "info" and found.finding == "not measured"
    assert reason in found.meaning and "auc_masked" not in results


def test_hidden_pixels_take_the_runs_fill_never_the_images_own_statistics(tmp_path):
    images, _, lungs = data(4)
    hidden = hide(images, lungs, FILL)
    assert np.all(hidden[..., 0][lungs] == FILL)
    assert np.array_equal(hidden[..., 0][~lungs], images[..., 0][~lungs])
    seen: list[np.ndarray] = []
    ctx = context(tmp_path, "marker")
    predict = ctx.predict
    ctx.predict = lambda x: seen.append(x) or predict(x)
    OcclusionEvaluator().evaluate_context(ctx)
    masked, only = seen
    assert np.all(masked[..., 0][ctx.split.lung_fields] == FILL)  # lungs hidden
    assert np.all(only[..., 0][~ctx.split.lung_fields] == FILL)  # everything but the lungs


def test_lung_fields_of_another_shape_are_not_measured(tmp_path):
    ctx = context(tmp_path, "marker")
    ctx.split = SplitPredictions("test", ctx.split.y_true, ctx.split.y_prob, ctx.split.samples,
                                 ctx.split.images, lung_fields=np.ones((3, SIZE, SIZE), bool))
    found = OcclusionEvaluator().evaluate_context(ctx).evidence[0]
    assert found.finding == "not measured" and "does not match" in found.meaning


def test_a_sample_of_the_split_is_named_with_the_models_auc_on_it(tmp_path):
    results = OcclusionEvaluator(max_images=20, budget_gflop=0).evaluate_context(
        context(tmp_path, "marker"))
    found = results.evidence[0]
    assert found.finding.startswith("on 20 of 80 images: ROC AUC ")
    assert results.results["images"] == {"occluded": 20, "of": 80}


def test_every_share_in_the_line_is_between_none_and_all(tmp_path):
    """A masked AUC above the model's own never reads as more than all of its separation."""
    rule = OcclusionEvaluator()
    occ = {"auc_full": 0.7, "full_interval": [0.6, 0.8], "auc_masked": 0.9,
           "masked_interval": [0.85, 0.95], "auc_lungs_only": 0.3,
           "lungs_only_interval": [0.2, 0.4]}
    found = rule.line(occ)
    shares = re.findall(r"\((\w+|\d+%) (?:of its separation )?kept\)", found.finding)
    assert shares == ["all", "none"] and found.level == "strong"


def test_lungs_are_hidden_grown_and_shown_shrunk_by_the_margin(tmp_path):
    """An opacity's edge just past the estimated field is hidden with the lungs; a marker
    touching a field's edge is not shown with only the lungs, whose edge band is hidden too:
    each side errs towards "cannot say"."""
    seen: list[np.ndarray] = []
    ctx = context(tmp_path, "marker")
    predict = ctx.predict
    ctx.predict = lambda x: seen.append(x) or predict(x)
    OcclusionEvaluator(margin=0.125).evaluate_context(ctx)  # 2 of 16 pixels
    masked, only = seen
    fields = ctx.split.lung_fields
    rim = grow(fields, 0.125) & ~fields
    assert rim.any() and not grow(fields, 0.0)[~fields].any()
    assert np.all(masked[..., 0][rim] == FILL)  # the rim goes with the lungs
    assert np.all(only[..., 0][rim] == FILL)  # and is not shown as lungs either
    band = fields & ~shrink(fields, 0.125)
    assert band.any() and np.all(only[..., 0][band] == FILL)  # nor the fields' own edge
    core = shrink(fields, 0.125)
    assert core.any() and not np.all(only[..., 0][core] == FILL)
    with pytest.raises(ValueError, match="margin"):
        OcclusionEvaluator(margin=0.6)


def test_the_fill_is_the_training_mean_and_an_evaluation_reads_back_the_runs(tmp_path):
    from bamnet_core.errors import RunError
    from bamnet_core.experiment.occlusion_fill import recorded_fill, training_fill
    from bamnet_core.runs import layout
    from bamnet_core.runs.files import MetricsFile
    from bamnet_core.runs.folder import RunFolder

    train = np.stack([np.full((4, 4, 1), v, np.float32) for v in (0.2, 0.4)])
    fill = training_fill(train)
    assert fill["value"] == pytest.approx(0.3) and fill["images"] == 2
    assert training_fill(train[:0]) is None
    run = RunFolder(tmp_path)
    assert recorded_fill(run) is None  # no metrics.json
    run.write_model(layout.METRICS, MetricsFile(classes=["a", "b"]))
    assert recorded_fill(run) is None  # written before the fill was recorded
    run.write_model(layout.METRICS, MetricsFile(classes=["a", "b"]).with_entries(
        {"occlusion_fill": fill}))
    assert recorded_fill(run).value == pytest.approx(0.3)
    run.file(layout.METRICS).write_text("{damaged", encoding="utf-8")
    with pytest.raises(RunError, match=layout.METRICS):  # damaged is never "no fill"
        recorded_fill(run)


def test_a_model_that_reads_more_outside_the_lungs_than_in_them_is_strong():
    """Lungs hidden keeps some separation (clearly above chance, under ``some_auc``), only the
    lungs keeps none, and the paired difference is above 0: it reads outside the lungs, even
    where hiding the lungs with their margin took part of a marker beside them."""
    occ = {"auc_full": 0.99, "full_interval": [0.96, 1.0], "auc_masked": 0.74,
           "masked_interval": [0.56, 0.90], "auc_lungs_only": 0.50,
           "lungs_only_interval": [0.29, 0.70], "outside_minus_inside_interval": [0.05, 0.45]}
    found = OcclusionEvaluator().line(occ)
    assert found.level == "strong", found
    assert "better with the lungs hidden than with only the lungs" in found.meaning
    assert "lungs hidden - only the lungs +0.240 [0.050, 0.450] (paired)" in found.finding
    # the same numbers, but the difference could be chance: no such claim
    occ["outside_minus_inside_interval"] = [-0.05, 0.45]
    assert OcclusionEvaluator().line(occ).level == "info"
