"""Subgroup metrics: a group built to fail is flagged; a run's metrics.json holds them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bamnet_core.contract import Sample
from bamnet_core.experiment.subgroups import subgroup_metrics, subgroup_warnings
from bamnet_core.runs import layout


def _split(bad_source_wrong: bool) -> tuple[list[Sample], np.ndarray, np.ndarray]:
    samples, y, probs = [], [], []
    rng = np.random.default_rng(1)
    for i in range(120):
        source = "bad" if i < 30 else ("a" if i % 2 else "b")
        label = i % 2
        right = not (bad_source_wrong and source == "bad" and rng.random() < 0.7)
        p = 0.9 if (label == 1) == right else 0.1
        samples.append(Sample(path=f"/x/{i}.png", label=["normal", "covid"][label],
                              patient_id=f"p{i // 2}", source=source,
                              demographics={"sex": "F" if i % 3 else "male", "age": 20 + i % 60}))
        y.append(label)
        probs.append([1 - p, p])
    return samples, np.array(y), np.array(probs)


def test_a_group_built_to_fail_is_flagged_and_the_others_are_not():
    samples, y, probs = _split(bad_source_wrong=True)
    result = subgroup_metrics(samples, y, probs, classes=["normal", "covid"], positive="covid",
                              threshold=0.5, split="test")
    by_source = {g["group"]: g for g in result["by"]["source"]}
    assert by_source["bad"]["worse"] and by_source["bad"]["accuracy"] < 0.5
    flagged = [c for c in by_source["bad"]["comparisons"] if c["worse"]]
    assert flagged and all(c["interval"][1] < 0 and c["p_holm"] <= 0.05 for c in flagged)
    assert not by_source["a"]["worse"] and by_source["a"]["accuracy"] == 1.0
    # age bands that mostly hold the bad source's images may be flagged too: that is right
    assert [w for w in result["worse"] if w.startswith("source=")] == ["source=bad"]
    assert set(result["by"]) == {"source", "sex", "age_band"}  # no view known: left out
    assert {g["group"] for g in result["by"]["sex"]} == {"F", "M"}
    low, high = by_source["bad"]["accuracy_interval"]
    assert low <= by_source["bad"]["accuracy"] <= high
    warning = subgroup_warnings(result)[0]
    assert "source = 'bad' does worse" in warning and "Holm" in warning


def test_no_group_is_flagged_when_all_do_equally_well():
    samples, y, probs = _split(bad_source_wrong=False)
    result = subgroup_metrics(samples, y, probs, classes=["normal", "covid"], positive="covid",
                              threshold=0.5, split="val")
    assert result["worse"] == [] and subgroup_warnings(result) == []


def test_a_run_writes_subgroups_and_the_baseline_beside_the_model(cli, tiny_config: Path,
                                                                   tmp_path: Path):
    result = cli("run", str(tiny_config), "--output-dir", str(tmp_path / "runs"), "--json",
                 "--set", "audit.outliers=true", "--set", "audit.feature_size=32")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    run_dir = Path(payload["run_dir"])
    metrics = json.loads((run_dir / layout.METRICS).read_text())
    groups = metrics["subgroups"]
    # the headline split: test, now that the default protocol holds one out
    assert groups["split"] == "test" and "sex" in groups["by"]
    for g in groups["by"]["sex"]:
        assert g["images"] >= 5 and g["accuracy"] is not None
    baseline = metrics["shortcut_baseline"]
    assert baseline["split"] == "test" and baseline["model_auc"] is not None
    audit = json.loads((run_dir / layout.AUDIT).read_text())
    assert audit["shortcut_baseline"]["status"] == "done"
    assert audit["deep"]["outliers"]["status"] == "done" and "label_issues" not in audit["deep"]


def _class_mix_split(seed: int = 3) -> tuple[list[Sample], np.ndarray, np.ndarray]:
    """A model with sensitivity about 0.6 and specificity about 0.95 on every image, and a sex
    drawn independently of the images: women hold mostly normal images, men mostly covid."""
    rng = np.random.default_rng(seed)
    samples, y, probs = [], [], []
    for i in range(240):
        sex = "F" if i % 2 else "M"
        label = int(rng.random() < (0.2 if sex == "F" else 0.8))
        right = rng.random() < (0.6 if label else 0.95)
        p = 0.9 if (label == 1) == right else 0.1
        samples.append(Sample(path=f"/x/{i}.png", label=["normal", "covid"][label],
                              patient_id=f"p{i}", source="one", demographics={"sex": sex}))
        y.append(label)
        probs.append([1 - p, p])
    return samples, np.array(y), np.array(probs)


def test_a_group_that_differs_only_in_its_class_mix_is_not_flagged():
    samples, y, probs = _class_mix_split()
    result = subgroup_metrics(samples, y, probs, classes=["normal", "covid"], positive="covid",
                              threshold=0.5, split="test")
    sexes = {g["group"]: g for g in result["by"]["sex"]}
    # accuracy follows the class mix: men look clearly worse by it ...
    assert sexes["M"]["accuracy"] < sexes["F"]["accuracy"] - 0.15
    # ... but their sensitivity and specificity are those of everyone else: no flag
    assert result["worse"] == [] and subgroup_warnings(result) == []
    tested = {c["metric"] for c in sexes["M"]["comparisons"]}
    assert tested == {"sensitivity", "specificity", "auc"}
    assert result["tests"] == 6 and "Holm" in result["test"]


def test_a_group_the_model_fails_on_is_flagged_on_the_rate_it_fails():
    samples, y, probs = _class_mix_split()
    for i, s in enumerate(samples):  # the model misses every covid image of one age band
        s.demographics["age"] = 70 if i % 4 < 2 else 30
        if s.demographics["age"] == 70 and y[i] == 1:
            probs[i] = [0.9, 0.1]
    result = subgroup_metrics(samples, y, probs, classes=["normal", "covid"], positive="covid",
                              threshold=0.5, split="test")
    assert result["worse"] == ["age_band=60-79"]
    old = {g["group"]: g for g in result["by"]["age_band"]}["60-79"]
    flagged = {c["metric"] for c in old["comparisons"] if c["worse"]}
    assert "sensitivity" in flagged and "specificity" not in flagged  # its normals are fine
    assert old["sensitivity"] == 0.0
    assert "sensitivity 0.00 against" in subgroup_warnings(result)[0]


def test_holm_counts_every_test():
    from bamnet_core.experiment.subgroups import holm

    adjusted, rejected = holm([0.01, 0.02, 0.04])
    assert adjusted == [0.03, 0.04, 0.04] and rejected == [True, True, True]
    adjusted, rejected = holm([0.01, 0.03, 0.2, 0.5])
    assert adjusted == [0.04, 0.09, 0.4, 0.5] and rejected == [True, False, False, False]
