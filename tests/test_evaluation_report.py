"""Evaluation and the report on a real (tiny) run: numbers, intervals, Grad-CAM, CLI commands."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from bamnet_testing import run_cli, tiny_config_on

from bamnet_core.runs import layout

SECTIONS = ("verdict", "headline", "probes", "plots", "metrics", "export", "protocol", "data",
            "gradcam", "claims", "config")


def write_two_source_manifest(folder: Path, per_class: int = 8, *, seed: int = 5,
                              prefix: str = "") -> Path:
    """Phantom PNGs from two sources (one per class mostly), with patients of two images.

    :param prefix: starts every patient id (other patients than another manifest's).
    """
    import cv2

    from bamnet_paper.phantoms import draw, random_anatomy

    rng = np.random.default_rng(seed)
    rows = ["path,label,patient_id,source"]
    for label in ("normal", "covid"):
        for i in range(per_class):
            source = ("hospital-a" if label == "normal" else "hospital-b") if i % 4 else \
                ("hospital-b" if label == "normal" else "hospital-a")
            anatomy = random_anatomy(rng, positive=label == "covid", opacity=0.8)
            for k in range(2):
                name = f"{label}-{i}-{k}.png"
                cv2.imwrite(str(folder / name), draw(anatomy, rng, size=48))
                rows.append(f"{name},{label},{prefix}{label}-{i},{source}")
    path = folder / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny run on a two-source manifest, through the CLI."""
    base = tmp_path_factory.mktemp("evalrun")
    data = base / "data"
    data.mkdir()
    manifest = write_two_source_manifest(data)
    config = base / "tiny.toml"
    config.write_text(tiny_config_on(manifest))
    result = run_cli("run", str(config), "--output-dir", str(base / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["run_dir"])


def test_metrics_equal_a_sklearn_recomputation_from_saved_predictions(tiny_run: Path):
    from sklearn.metrics import accuracy_score, confusion_matrix, recall_score, roc_auc_score

    metrics = json.loads((tiny_run / layout.METRICS).read_text())
    rows = list(csv.DictReader((tiny_run / layout.PREDICTIONS).open()))
    assert metrics["headline"]["split"] == "test"
    for split in ("val", "test"):
        mine = [r for r in rows if r["split"] == split]
        truth = np.array([r["label"] == "covid" for r in mine])
        p = np.array([float(r["p_covid"]) for r in mine])
        called = p >= metrics["threshold"]
        found = metrics["splits"][split]["evaluators"]
        got = found["classification"]
        assert got["accuracy"] == pytest.approx(accuracy_score(truth, called))
        assert got["sensitivity"] == pytest.approx(recall_score(truth, called))
        assert got["specificity"] == pytest.approx(recall_score(~truth, ~called))
        assert got["roc_auc"] == pytest.approx(roc_auc_score(truth, p))
        cm = confusion_matrix([r["label"] for r in mine],
                              np.where(called, "covid", "normal"), labels=["normal", "covid"])
        assert got["confusion_matrix"]["rows_true_cols_pred"] == cm.tolist()
        assert metrics["splits"][split]["headline_from"] == "classification"
        roc = found["roc"]
        assert roc["roc_auc"] == pytest.approx(roc_auc_score(truth, p))
        assert roc["operating_point"]["chosen_on"] == "val"


def test_intervals_resample_patients_not_images():
    from bamnet_core.contract import EvaluationContext, Sample, SplitPredictions
    from bamnet_paper.evaluators import ClassificationEvaluator

    # 10 patients with 30 images each; a patient's images are all right or all wrong.
    patients = np.repeat(np.arange(10), 30)
    y_true = np.tile([0, 1], 150)
    right = patients % 2 == 0
    p_covid = np.where(right == (y_true == 1), 0.9, 0.1)
    probs = np.stack([1 - p_covid, p_covid], axis=1)

    def ci(ids: np.ndarray) -> tuple[float, float]:
        samples = [Sample(path=f"{i}.png", label="x", patient_id=str(pid), source="s")
                   for i, pid in enumerate(ids)]
        context = EvaluationContext(
            split=SplitPredictions("test", y_true, probs, samples), class_names=["normal", "covid"],
            positive="covid", threshold=0.5, bootstrap=400, seed=1,
            figures_dir=Path("."), predict=lambda x: x)
        result = ClassificationEvaluator().evaluate_context(context).results
        assert result["accuracy"] == pytest.approx(0.5)
        interval = result["intervals"]["accuracy"]
        return interval["low"], interval["high"]

    lo_p, hi_p = ci(patients)
    lo_i, hi_i = ci(np.arange(len(patients)))  # one "patient" per image
    assert hi_p - lo_p > 0.4  # ten independent units: wide
    assert hi_i - lo_i < 0.15  # 300 independent units: narrow, and wrong here
    assert lo_p < lo_i and hi_p > hi_i


def test_shortcut_probes_ran_on_several_sources(tiny_run: Path):
    metrics = json.loads((tiny_run / layout.METRICS).read_text())
    test = metrics["splits"]["test"]["evaluators"]
    assert set(test["per-source"]["sources"]) == {"hospital-a", "hospital-b"}
    occlusion = test["occlusion"]  # measured on lung fields, or not measured and why
    assert 0.0 <= occlusion["auc_masked"] <= 1.0 if "auc_masked" in occlusion \
        else "lung fields" in occlusion["note"]
    fill = metrics["occlusion_fill"]  # one value from the training images, in model units
    assert 0.0 < fill["value"] < 1.0 and fill["images"] > 0
    probe = test["source-probe"]
    assert "overall" in probe or "note" in probe


BACKBONES = [{"name": "small-cnn", "filters": [4, 8], "dense": 8},
             {"name": "vgg16", "weights": "none", "head": "pyimagesearch"}]


@pytest.mark.parametrize("backbone", BACKBONES)
def test_gradcam_shows_every_misclassified_image(tmp_path: Path, backbone: dict):
    from bamnet_core.contract import EvaluationContext, NamesGradCamLayer, Sample, SplitPredictions
    from bamnet_paper.backbones.small_cnn import SmallCNN
    from bamnet_paper.backbones.vgg16 import VGG16Backbone
    from bamnet_paper.evaluators import GradCamEvaluator

    options = {k: v for k, v in backbone.items() if k != "name"}
    made = SmallCNN(**options) if backbone["name"] == "small-cnn" else VGG16Backbone(**options)
    assert isinstance(made, NamesGradCamLayer)
    model = made.build((32, 32, 3), 2)
    rng = np.random.default_rng(0)
    images = rng.random((12, 32, 32, 3)).astype(np.float32)
    probs = np.asarray(model.predict(images, verbose=0))
    y_true = np.array([0, 1] * 6)
    samples = [Sample(path=f"img{i}.png", label="x", patient_id=f"p{i}", source="s")
               for i in range(12)]
    context = EvaluationContext(
        split=SplitPredictions("test", y_true, probs, samples, images),
        class_names=["normal", "covid"], positive="covid", threshold=0.5,
        seed=0, figures_dir=tmp_path,
        predict=lambda x: x, model=model, gradcam_layer=made.gradcam_layer)
    result = GradCamEvaluator(correct_images=2).evaluate_context(context)
    wrong = int(((probs[:, 1] >= 0.5).astype(int) != y_true).sum())
    assert result["layer"] == made.gradcam_layer
    assert result["misclassified"] == wrong == result["shown_misclassified"]
    assert len(result["images"]) == wrong + min(2, 12 - wrong)
    for item in result["images"]:
        assert (tmp_path / item["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_command_rebuilds_the_page_and_model_card(tiny_run: Path):
    (tiny_run / layout.REPORT).unlink()
    result = run_cli("report", str(tiny_run), "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["sections"][:len(SECTIONS) - 1] == list(SECTIONS[:-1])
    html = (tiny_run / layout.REPORT).read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert "not" in html and "clinical diagnosis" in html
    # no [audit] label_issues / outliers in this run: no ranked lists, not even a heading
    assert "label-issues" not in payload["sections"] and 'id="label-issues"' not in html
    card = (tiny_run / layout.MODEL_CARD).read_text()
    assert "## Intended use" in card and "## Known confounds" in card
    # a test split of a few images: too small to conclude, and no number without its mark
    assert "**too few images to conclude.**" in card and "too few (n = " in card
    assert "95% CI" not in card


def test_report_of_a_folder_that_is_not_a_run_is_one_error_line(tmp_path: Path):
    result = run_cli("report", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "not a bamnet run folder" in result.stderr


def test_evaluate_on_external_data_then_compare(tiny_run: Path, tmp_path: Path):
    data = tmp_path / "other"
    data.mkdir()
    manifest = write_two_source_manifest(data, per_class=4, seed=6, prefix="other-")
    result = run_cli("evaluate", str(tiny_run), "--data", str(manifest), "--name", "other",
                     "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["metrics"]["splits"]["external"]["images"] == 16
    assert payload["metrics"]["overlap"]["excluded"] == 0
    own = json.loads((tiny_run / layout.METRICS).read_text())["occlusion_fill"]
    assert payload["metrics"]["occlusion_fill"] == own  # the run's fill, not the new data's
    assert (tiny_run / layout.EXTERNAL / "other" / layout.METRICS).is_file()
    assert 'id="external"' in (tiny_run / layout.REPORT).read_text()
    missing = run_cli("evaluate", str(tiny_run), "--data", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "no such file, folder or preset" in missing.stderr
    page = tmp_path / "cmp.html"
    both = run_cli("compare", str(tiny_run), str(tiny_run), "-o", str(page))
    assert both.exit_code == 0, both.stderr
    text = page.read_text()
    assert "Claimed vs reproduced" in text and "outside-the-lungs baseline" in text
    baseline = json.loads((tiny_run / layout.METRICS).read_text())["shortcut_baseline"]
    assert text.count(f"{baseline['baseline']['auc']:.3f} (model") == 2  # each run's own
    one = run_cli("compare", str(tiny_run))
    assert one.exit_code == 1 and "at least two" in one.stderr


def test_another_dataset_under_a_taken_name_is_refused_until_replace(tiny_run: Path,
                                                                    tmp_path: Path):
    """Two datasets both called manifest.csv would share ``external/manifest``: the second
    never replaces the first unasked; the same data spelled through a link is a rerun."""
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, seed in ((first, 7), (second, 8)):
        folder.mkdir()
        write_two_source_manifest(folder, per_class=3, seed=seed, prefix=f"{folder.name}-")
    ran = run_cli("evaluate", str(tiny_run), "--data", str(first / "manifest.csv"))
    assert ran.exit_code == 0, ran.stderr
    kept = (tiny_run / layout.EXTERNAL / "manifest" / layout.PREDICTIONS).read_text()
    refused = run_cli("evaluate", str(tiny_run), "--data", str(second / "manifest.csv"))
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: ")
    assert "already holds the evaluation of" in refused.stderr and "--replace" in refused.stderr
    assert (tiny_run / layout.EXTERNAL / "manifest" / layout.PREDICTIONS).read_text() == kept
    (tmp_path / "link").symlink_to(first)
    again = run_cli("evaluate", str(tiny_run), "--data", str(tmp_path / "link" / "manifest.csv"))
    assert again.exit_code == 0, again.stderr  # the same data: a rerun, not another dataset
    replaced = run_cli("evaluate", str(tiny_run), "--data", str(second / "manifest.csv"),
                       "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    now = (tiny_run / layout.EXTERNAL / "manifest" / layout.PREDICTIONS).read_text()
    assert "b-" in now and "a-" not in now
