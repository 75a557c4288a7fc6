"""The headline threshold is chosen on validation and says so; a calibration fitted there
changes no decision; ``bamnet evaluate`` applies the run's own threshold, as it says."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from bamnet_testing import run_cli

from bamnet_core.config.schema import EvaluateSection
from bamnet_core.contract import SplitPredictions, youden_threshold
from bamnet_core.contract.sample import Sample
from bamnet_core.experiment.operating_point import calibrate, choose
from bamnet_core.runs import layout
from bamnet_paper.known_answers import write_config, write_dataset


def validation(scores: list[float], truth: list[int]) -> SplitPredictions:
    """A validation split of two classes (1 = covid, the positive one) with these scores."""
    p = np.array(scores, dtype=float)
    return SplitPredictions(name="val", y_true=np.array(truth), y_prob=np.c_[1 - p, p],
                            samples=[Sample(path=f"{i}.png", label="x", patient_id=str(i),
                                            source="s") for i in range(len(p))])


def test_youden_chooses_between_the_classes_for_a_model_whose_scores_are_all_low():
    # every image scored below 0.5 but ranked perfectly: 0.5 would call them all normal
    val = validation([0.05, 0.08, 0.1, 0.2, 0.25, 0.3], [0, 0, 0, 1, 1, 1])
    threshold, point = choose(EvaluateSection(), val, 1)
    assert threshold == pytest.approx(0.15) and point.rule == "youden"
    assert point.sentence == "0.150, chosen on the val split (Youden's J, the cut-off " \
        "maximising sensitivity + specificity)"
    fixed, point = choose(EvaluateSection(threshold=0.5), val, 1)
    assert fixed == 0.5 and point.sentence == "0.5, fixed in the config"
    target, point = choose(EvaluateSection(threshold="target-sensitivity",
                                           target_sensitivity=0.6), val, 1)
    assert target == 0.25 and point.target_sensitivity == 0.6
    assert youden_threshold(np.array([True, True]), np.array([0.2, 0.3])) is None


def test_a_rule_without_a_validation_split_of_both_classes_says_so():
    threshold, point = choose(EvaluateSection(), validation([0.2, 0.3], [1, 1]), 1)
    assert threshold == 0.5 and point.rule == "fixed"
    assert "no validation split with both classes to choose 'youden' on" in point.sentence


def test_platt_calibration_changes_no_decision_and_maps_the_threshold():
    rng = np.random.default_rng(0)
    truth = np.r_[np.zeros(40, int), np.ones(40, int)]
    scores = np.clip(np.r_[rng.normal(0.1, 0.05, 40), rng.normal(0.3, 0.08, 40)], 0.01, 0.99)
    val = validation(scores.tolist(), truth.tolist())
    raw, point = choose(EvaluateSection(calibration="platt"), val, 1)
    assert point.calibration is not None and point.calibration.fitted_on == "val"
    calibrated = calibrate(point.calibration, val.y_prob, 1)
    assert np.allclose(calibrated.sum(axis=1), 1.0)
    assert ((calibrated[:, 1] >= point.calibrated_threshold) == (scores >= raw)).all()
    # calibrated probabilities read as frequencies: their mean is near the positive share
    assert abs(calibrated[:, 1].mean() - 0.5) < 0.05 < abs(scores.mean() - 0.5)
    assert "probabilities calibrated" not in point.sentence  # the report adds that


def test_the_paper_presets_keep_the_paper_s_threshold_and_the_default_chooses_on_validation():
    for preset in ("paper-base", "paper-config", "paper-config-fixed"):
        shown = run_cli("presets", "show", preset)
        assert shown.exit_code == 0, shown.stderr
        assert "threshold = 0.5\n" in shown.stdout and "the paper's decision threshold" in \
            shown.stdout, preset
    resolved = run_cli("presets", "show", "quickstart", "--resolved").stdout
    assert 'threshold = "youden"' in resolved


def _predictions(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] in ("test", "external")]
    return (np.array([r["label"] == "covid" for r in rows]),
            np.array([float(r["p_covid"]) for r in rows]))


@pytest.fixture(scope="module")
def calibrated_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A run with Platt calibration on a dataset any model learns in a few epochs (a corner
    marker on one class): (run folder, what it printed)."""
    root = tmp_path_factory.mktemp("operating")
    manifest = write_dataset(root / "data", "marker", patients=40)
    config = write_config(root, manifest, name="operating", epochs=8)
    result = run_cli("run", str(config), "--output-dir", str(root / "runs"),
                     "--set", "evaluate.calibration='platt'")
    assert result.exit_code == 0, result.stderr[-3000:]
    run_dir = Path(re.search(r"Run folder: (\S+)", result.stdout).group(1))
    return run_dir, result.stdout


def test_a_run_records_and_shows_where_its_threshold_came_from(calibrated_run):
    run_dir, printed = calibrated_run
    metrics = json.loads((run_dir / layout.METRICS).read_text())
    point = metrics["operating_point"]
    assert point["rule"] == "youden" and point["chosen_on"] == "val"
    assert point["calibration"]["method"] == "platt"
    flat = " ".join(printed.split())
    assert f"decision threshold {metrics['threshold']:.3f}, chosen on the val split " \
        "(Youden's J" in flat
    test = metrics["splits"]["test"]["evaluators"]["classification"]
    assert test["threshold"] == pytest.approx(point["calibrated_threshold"])
    truth, raw = _predictions(run_dir / layout.PREDICTIONS)  # the model's own output
    called = raw >= metrics["threshold"]
    assert test["counts"]["tp"] == int((truth & called).sum())
    assert test["counts"]["fp"] == int((~truth & called).sum())
    report = (run_dir / layout.REPORT).read_text()
    assert "Decision threshold " in report and "calibrated on the val split (Platt)" in report


def test_evaluate_scores_other_data_at_the_run_s_own_threshold(calibrated_run, tmp_path: Path):
    run_dir, _ = calibrated_run
    own = json.loads((run_dir / layout.METRICS).read_text())
    manifest = write_dataset(tmp_path / "more", "marker", patients=50)  # 20 new patients
    result = run_cli("evaluate", str(run_dir), "--data", str(manifest), "--name", "more",
                     "--json")
    assert result.exit_code == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    metrics = payload["metrics"]
    assert metrics["threshold"] == own["threshold"]
    assert payload["summary"]["external"]["images"] == metrics["splits"]["external"]["images"]
    assert metrics["operating_point"]["rule"] == "run"
    external = metrics["splits"]["external"]["evaluators"]["classification"]
    assert external["threshold"] == pytest.approx(own["operating_point"]["calibrated_threshold"])
    truth, raw = _predictions(run_dir / layout.EXTERNAL / "more" / layout.PREDICTIONS)
    assert external["counts"]["tp"] == int((truth & (raw >= own["threshold"])).sum())
    report = " ".join(html.unescape((run_dir / layout.REPORT).read_text()).split())
    assert f"at threshold the run's own, {own['threshold']:.3f}, chosen on the val split" \
        in report
