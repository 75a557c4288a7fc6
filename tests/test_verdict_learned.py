"""A model that did not learn, and a split too small to conclude, each read as what they are:
never as shortcut evidence, and never with a bare number (hand-made run records, no training)."""

from __future__ import annotations

import json

from test_verdict_rules import levels, metrics, record, split_results

from bamnet_core.contract import EvidenceLine
from bamnet_core.report.model_card import model_card
from bamnet_core.report.verdict import verdict_of


def with_strong_line(split: dict) -> dict:
    """``split`` with a counted shortcut line, as any evaluator may bring one."""
    line = EvidenceLine(key="lead-markers", label="lead markers", level="strong",
                        finding="90% of the positive images carry a marker",
                        meaning="the marker alone tells the classes apart")
    split["evidence"]["lead-markers"] = [line.model_dump(mode="json")]
    return split


STRONG_BASELINE = {"baseline": {"auc": 0.97, "interval": [0.93, 1.0],
                                "difference": {"value": -0.45, "interval": [-0.6, -0.3]}},
                   "model_auc": 0.52}


def test_an_auc_whose_interval_reaches_chance_reads_did_not_learn_not_shortcut_evidence():
    split = with_strong_line(split_results(auc=(0.52, 0.38, 0.66)))
    verdict = verdict_of(record(metrics(split, shortcut_baseline=STRONG_BASELINE)))
    text = "\n".join(verdict.text_lines())
    assert verdict.reading == "the model did not learn", text
    assert "this is not shortcut evidence" in verdict.sentence
    assert "ROC AUC 0.520 [0.380, 0.660] on 40 test images. its interval reaches chance" in text
    # the shortcut lines keep their numbers but are not read, and say why
    assert levels(verdict)["lead-markers"] == levels(verdict)["baseline"] == "info"
    baseline = next(e for e in verdict.evidence if e.key == "baseline")
    assert baseline.meaning.startswith("the data carry a shortcut this model did not learn")
    assert "The data carry a shortcut this model did not learn" in verdict.sentence
    markers = next(e for e in verdict.evidence if e.key == "lead-markers")
    assert markers.meaning.startswith("not read: the model did not learn")
    assert markers.finding == "90% of the positive images carry a marker"
    assert "strong" not in {e.level for e in verdict.evidence}
    shown = json.loads(json.dumps(verdict.to_dict()))
    assert shown["level"] == "unlearned" and shown["reading"] == "the model did not learn"


def test_a_miscalibrated_model_that_calls_every_image_one_class_still_learned():
    everything_positive = {"tp": 20, "fn": 0, "tn": 0, "fp": 20}
    split = split_results(counts=everything_positive, auc=(0.90, 0.76, 1.0))
    verdict = verdict_of(record(metrics(split)))
    assert verdict.reading != "the model did not learn"
    assert verdict.level not in ("strong", "some"), verdict.text_lines()
    learned = next(e for e in verdict.evidence if e.key == "learned")
    assert learned.meaning == "its interval stays above chance: the model separates the classes"


def test_how_far_above_chance_the_interval_must_stay_is_a_setting():
    split = split_results(auc=(0.70, 0.56, 0.84))
    assert verdict_of(record(metrics(split))).level == "unchecked"
    strict = {"split": {"by": "patient"}, "report": {"verdict": {"learned_auc": 0.6}}}
    assert verdict_of(record(metrics(split), config=strict)).level == "unlearned"


def test_a_split_too_small_to_conclude_gets_its_own_reading_and_no_bare_number():
    two_images = {"tp": 1, "fn": 0, "tn": 0, "fp": 1}
    split = with_strong_line(split_results(counts=two_images, auc=(1.0, 1.0, 1.0)))
    run = record(metrics(split), config={"split": {"by": "patient"},
                                         "backbone": {"name": "small-cnn"},
                                         "data": {"classes": ["covid", "normal"],
                                                  "positive": "covid"}})
    verdict = verdict_of(run)
    assert verdict.reading == "too few images to conclude"
    assert "the test split holds 1 positive image (at least 5 needed) and 1 negative image " \
        "(at least 5 needed)" in verdict.sentence
    assert levels(verdict)["lead-markers"] == "info"
    learned = next(e for e in verdict.evidence if e.key == "learned")
    assert learned.finding == "ROC AUC too few (n = 1)" and learned.value is None
    assert all(m["shown"].startswith("too few") for m in verdict.headline["metrics"].values()
               if m["shown"] != "–"), verdict.headline
    assert verdict.headline["metrics"]["sensitivity"]["value"] is None
    card = model_card(run, verdict)
    assert "**too few images to conclude.**" in card
    assert "sensitivity: 1.000" not in card and "roc_auc: 1.000" not in card
    assert "sensitivity: too few (n = 1)" in card


def test_a_tiny_run_reads_too_few_in_its_json_and_its_summary_table(tiny_config, tmp_path):
    from bamnet_testing import run_cli
    from rich.console import Console

    from bamnet_core.cli.run_command import summary_table
    from bamnet_core.runs import layout
    from bamnet_core.runs.files import MetricsFile

    result = run_cli("run", str(tiny_config), "--output-dir", str(tmp_path), "--json")
    assert result.exit_code == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    assert payload["verdict"]["reading"] == "too few images to conclude"
    test = payload["summary"]["test"]
    assert test["headline"] and test["too_few"].startswith("the test split holds ")
    assert all(m["value"] is None and m["shown"].startswith("too few (n = ")
               for m in test["metrics"].values()), test
    metrics = MetricsFile.model_validate_json(
        (tmp_path.joinpath(payload["run_dir"]) / layout.METRICS).read_text())
    console = Console(record=True, width=200)
    console.print(summary_table(metrics))
    shown = console.export_text()
    test_row = next(line for line in shown.splitlines() if "test (headline)" in line)
    assert "too few (n = " in test_row and "0." not in test_row and "1.000" not in test_row
    assert "too few images to conclude" in " ".join(shown.split())


def test_a_held_out_source_s_rates_are_read_though_its_one_class_split_is_too_small():
    covid_only = {"tp": 3, "fn": 9, "tn": 0, "fp": 0}
    split = split_results(counts=covid_only, auc=(0.5, 0.5, 0.5))
    line = EvidenceLine(key="loso", label="leave one source out", level="some",
                        finding="ward (held out, 12 images): sens 0.250, spec -",
                        meaning="the model fails on a hospital it never saw")
    split["evidence"]["per-source"] = [line.model_dump(mode="json")]
    verdict = verdict_of(record(metrics(split)))
    assert levels(verdict)["loso"] == "some" and verdict.reading == "some shortcut evidence"
    assert "The headline split itself is too small to conclude (the test split holds 0 " \
        "negative images (at least 5 needed))." in verdict.sentence
