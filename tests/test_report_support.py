"""The report on a hand-made run folder: no number without support, the generator told as it was,
the verdict first, runs named by what they were, and every table column headed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bamnet_core.contract import Findings
from bamnet_core.experiment.evaluation import store_findings
from bamnet_core.report import build_report, compare_runs
from bamnet_core.runs import layout
from bamnet_paper.evaluators.classification import headline

CONFIG = """\
[data]
source = "manifest-csv"
classes = ["normal", "covid"]
positive = "covid"

[split]
by = "patient"

[generator]
enabled = true
name = "dcgan"

[backbone]
name = "small-cnn"

[preprocess]
size = 64

[train]
epochs = 3
"""


def split_results() -> dict:
    counts = {"tp": 23, "fn": 0, "tn": 30, "fp": 6}
    cls = {"accuracy": 53 / 59, "sensitivity": 1.0, "specificity": 30 / 36, "counts": counts,
           "intervals": {"sensitivity": {"low": 1.0, "high": 1.0},
                         "accuracy": {"low": 0.8, "high": 0.95}}}
    entry = {"images": 59, "patients": 40, "evaluators": {}, "evidence": {}, "headline": None,
             "headline_from": None}
    store_findings(entry, "classification", Findings(results=cls, headline=headline(cls)))
    store_findings(entry, "per-source", Findings(results={
        "mode": "evaluate per source", "sources": {
            "only-one": {"images": 59, "positives": 23, "sensitivity": 1.0, "specificity": 0.83,
                         "intervals": {}}}}))
    return entry


def make_run(folder: Path, *, made: int = 0) -> Path:
    """A run folder as ``bamnet run`` leaves it, minus the model (its report needs none)."""
    folder.mkdir(parents=True)
    (folder / layout.CONFIG).write_text(CONFIG)
    subgroups = {"split": "test", "worse": [], "by": {"source": [
        {"group": "big", "images": 40, "patients": 30, "positives": 20, "accuracy": 0.9,
         "accuracy_interval": [0.8, 0.97], "sensitivity": 0.9, "specificity": 0.9, "auc": 0.95,
         "worse": False},
        {"group": "tiny", "images": 13, "patients": 13, "positives": 12, "accuracy": 0.0,
         "accuracy_interval": [0.0, 0.0], "sensitivity": 0.0, "specificity": 0.0,
         "auc": 0.036, "worse": False}]}}
    generator = {"name": "dcgan", "class": "covid", "real": 286, "target": 167,
                 "synthetic": made, "note": "'covid' already has 286 training images "
                 "(target 167); nothing to synthesise" if not made else None}
    metrics = {"headline": {"split": "test"}, "classes": ["normal", "covid"],
               "splits": {"test": split_results()}, "subgroups": subgroups,
               "generator": generator, "split": {"by": "patient", "leaky": False}}
    (folder / layout.METRICS).write_text(json.dumps(metrics))
    audit = {"images": 1082, "patients": 874, "split": {"counts": {"test": {"covid": 23}}},
             "by_source": {"ieee8023": {"covid": 420, "normal": 8}, "kermany": {"normal": 300}}}
    (folder / layout.AUDIT).write_text(json.dumps(audit))
    return folder


def test_the_report_shows_support_not_bare_numbers(tmp_path: Path):
    files = build_report(make_run(tmp_path / "run"))
    html = files.html.read_text()
    assert files.sections[:2] == ["verdict", "headline"]
    assert html.index('id="verdict"') < html.index('id="headline"') < html.index('id="plots"')
    assert "1.000 [1.000, 1.000]" not in html  # a degenerate bootstrap is never shown
    assert "[0.852, 1.000] exact" in html
    assert "too few (n = 1)" in html and "0.036" not in html  # 12 covid, 1 normal
    assert "one source only; no breakdown" in html and "per-source-test" not in html
    assert "<th></th>" not in html


def test_a_generator_that_made_nothing_says_why_and_links_no_folder(tmp_path: Path):
    run = make_run(tmp_path / "run")
    html = build_report(run).html.read_text()
    generator = re.search(r'<section id="generator">(.*?)</section>', html, re.S).group(1)
    assert "made <b>0</b> images" in generator and "nothing to synthesise" in generator
    assert f"{layout.GENERATOR}/" not in generator and html.count("<h2>Generator</h2>") == 1
    card = (run / layout.MODEL_CARD).read_text()
    assert "728 images from 2 sources (ieee8023 428, kermany 300)" in card
    other = make_run(tmp_path / "other", made=12)
    page = compare_runs([run, other], tmp_path / "cmp.html").read_text()
    assert "on (made 0)" in page and "on (made 12)" in page
    assert "small-cnn, 64 px, 3 epochs" in page


def test_an_evaluation_made_before_the_overlap_check_is_not_called_external(tmp_path: Path):
    run = make_run(tmp_path / "run")
    old = run / layout.EXTERNAL / "old"
    old.mkdir(parents=True)
    (old / layout.METRICS).write_text(json.dumps({"splits": {"external": split_results()},
                                                  "data": {"origin": "x", "images": 59}}))
    html = build_report(run).html.read_text()
    assert "overlap with the run not checked" in html and "not called external" in html


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]"])
def test_a_damaged_metrics_file_is_one_error_naming_it(tmp_path: Path, bad: str):
    from bamnet_core.errors import RunError

    run = make_run(tmp_path / "run")
    (run / layout.METRICS).write_text(bad)
    with pytest.raises(RunError, match=layout.METRICS):
        build_report(run)


def test_compare_writes_into_the_first_run_not_into_the_working_directory(
        tmp_path: Path, cli, monkeypatch):
    runs = tmp_path / "runs"
    first, second = make_run(runs / "a"), make_run(runs / "b", made=12)
    elsewhere = tmp_path / "clone"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = cli("compare", str(first), str(second))
    assert result.exit_code == 0, result.stderr
    assert list(elsewhere.iterdir()) == []
    assert (first / layout.COMPARE).is_file()  # beside its report; runs/* stays runs only
    assert sorted(p.name for p in runs.iterdir()) == ["a", "b"]
    assert f"Comparison: {first / layout.COMPARE}" in result.stdout
    chosen = tmp_path / "pages" / "ab.html"
    chosen.parent.mkdir()
    assert cli("compare", str(first), str(second), "-o", str(chosen)).exit_code == 0
    assert "on (made 12)" in chosen.read_text()
    printed = cli("compare", str(first), str(second), "-o", "-")
    assert printed.exit_code == 0 and printed.stdout.lstrip().startswith("<!DOCTYPE html")
    assert "on (made 12)" in printed.stdout and list(elsewhere.iterdir()) == []
    both = cli("compare", str(first), str(second), "-o", "-", "--json")
    assert both.exit_code == 1 and both.stderr.count("Error:") == 1


def test_compare_help_shows_plain_option_text(cli):
    shown = cli("compare", "--help").stdout
    assert "RUN_DIRS..." in shown and "{run_dirs}" not in shown
    assert "<bool>" not in shown and "<list[Path]>" not in shown
    assert re.search(r"--json\s+Print machine-readable JSON", shown)
    assert "--output" in shown and "in the first run's folder" in shown
