"""The ablation's paired intervals and its degenerate-run mark, on hand-written predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bamnet_core.experiment.paired_difference import excludes_zero, paired_differences
from bamnet_core.runs import layout


def write_predictions(folder: Path, p_covid: np.ndarray, labels: list[str]) -> Path:
    """A run folder holding only ``predictions.csv`` for a test split (one image a patient)."""
    folder.mkdir()
    lines = ["split,path,patient_id,source,label,p_normal,p_covid"]
    for i, (p, label) in enumerate(zip(p_covid, labels, strict=True)):
        lines.append(f"test,/d/img{i}.png,p{i},site,{label},{1 - float(p)!r},{float(p)!r}")
    (folder / layout.PREDICTIONS).write_text("\n".join(lines) + "\n")
    return folder


def test_a_constant_run_is_degenerate_and_a_real_gain_has_an_interval_above_zero(tmp_path):
    rng = np.random.default_rng(0)
    labels = ["covid" if i % 2 else "normal" for i in range(60)]
    truth = np.array([label == "covid" for label in labels], dtype=float)
    good = np.clip(truth * 0.6 + 0.2 + rng.normal(0, 0.1, 60), 0, 1)
    constant = np.full(60, 0.9)
    found = paired_differences(write_predictions(tmp_path / "with", good, labels),
                               write_predictions(tmp_path / "without", constant, labels),
                               classes=["normal", "covid"], positive="covid", threshold=0.5)
    test = found["test"]
    assert test["degenerate"] == {"with": False, "without": True}
    spec = test["metrics"]["specificity"]
    assert spec["difference"] > 0.5 and excludes_zero(spec["interval"])
    low, high = spec["interval"]
    assert low <= spec["difference"] <= high


def test_two_runs_that_agree_have_an_interval_around_zero(tmp_path):
    labels = ["covid" if i % 3 else "normal" for i in range(45)]
    p = np.linspace(0.05, 0.95, 45)
    found = paired_differences(write_predictions(tmp_path / "a", p, labels),
                               write_predictions(tmp_path / "b", p, labels),
                               classes=["normal", "covid"], positive="covid", threshold=0.5)
    for entry in found["test"]["metrics"].values():
        assert entry["difference"] == 0.0 and not excludes_zero(entry["interval"])
