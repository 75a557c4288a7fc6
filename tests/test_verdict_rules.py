"""The verdict's rules, exact intervals and "too few", on hand-made run records (no training)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bamnet_core.contract import EvidenceLine, Findings, Headline, wilson
from bamnet_core.data.exact_intervals import clopper_pearson
from bamnet_core.errors import RunError
from bamnet_core.experiment.evaluation import store_findings
from bamnet_core.report.record import RunRecord, record_of
from bamnet_core.report.support import show
from bamnet_core.report.verdict import overall, verdict_of
from bamnet_paper.evaluators import OcclusionEvaluator, SourceProbeEvaluator, classification


def record(metrics: dict, *, config: dict | None = None, audit: dict | None = None,
           path: Path = Path("/nowhere/run")) -> RunRecord:
    """A run record as if read from a folder."""
    return record_of(path, config=config or {"split": {"by": "patient"}},
                     audit=audit or {"split": {"counts": {"test": {}}}}, metrics=metrics)


def split_results(*, occlusion: dict | None = None, probe: dict | None = None,
                  counts: dict | None = None, occlusion_rules: dict | None = None,
                  auc: tuple[float, float, float] = (0.95, 0.9, 0.99)) -> dict:
    """One split's entry of metrics.json, as the built-in evaluators store it: the rates
    computed from ``counts``, ``auc`` as (value, low, high), each evaluator's verdict line
    drawn by its own rules."""
    c = counts or {"tp": 18, "fn": 2, "tn": 18, "fp": 2}
    n = sum(c.values())
    ratio = lambda a, b: a / b if b else None  # noqa: E731
    cls = {"accuracy": (c["tp"] + c["tn"]) / n, "sensitivity": ratio(c["tp"], c["tp"] + c["fn"]),
           "specificity": ratio(c["tn"], c["tn"] + c["fp"]), "roc_auc": auc[0], "counts": c,
           "intervals": {"accuracy": {"low": 0.8, "high": 0.97},
                         "roc_auc": {"low": auc[1], "high": auc[2]}}}
    found = {"classification": Findings(results=cls, headline=classification.headline(cls))}
    if occlusion:
        occ = OcclusionEvaluator(**(occlusion_rules or {}))
        found["occlusion"] = Findings(results=occlusion, evidence=(occ.line(occlusion),))
    if probe:
        found["source-probe"] = Findings(results=probe,
                                         evidence=(SourceProbeEvaluator().line(probe),))
    return stored(found)


def stored(found: dict[str, Findings]) -> dict:
    """A split's entry of metrics.json holding ``found`` by evaluator name, as the evaluate
    stage writes it."""
    entry = {"images": 40, "patients": 40, "evaluators": {}, "evidence": {}, "headline": None,
             "headline_from": None}
    for name, findings in found.items():
        store_findings(entry, name, findings)
    return entry


def metrics(split: dict, **extra) -> dict:
    return {"headline": {"split": "test"}, "splits": {"test": split}, **extra}


def levels(verdict) -> dict[str, str]:
    return {e.key: e.level for e in verdict.evidence}


def test_exact_intervals_match_known_values():
    assert clopper_pearson(0, 10) == (0.0, 0.3085)
    assert clopper_pearson(10, 10) == (0.6915, 1.0)
    assert clopper_pearson(1, 1) == (0.025, 1.0)
    assert wilson(0, 10) == (0.0, 0.2775)
    assert clopper_pearson(0, 0) is None and wilson(0, 0) is None
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


def test_a_perfect_rate_gets_an_exact_interval_not_a_degenerate_bootstrap():
    shown = show("sensitivity", 1.0, {"low": 1.0, "high": 1.0},
                 {"tp": 23, "fn": 0, "tn": 30, "fp": 6}, min_positives=5, min_negatives=5)
    assert shown.method == "exact" and shown.interval.startswith("[0.852, 1.000]")


def test_a_rate_on_too_few_images_reads_too_few():
    one_normal = {"pos": 12, "neg": 1}
    auc = show("auc", 0.036, None, one_normal, min_positives=5, min_negatives=5)
    spec = show("specificity", 0.0, [0.0, 0.0], one_normal, min_positives=5, min_negatives=5)
    assert auc.value == spec.value == "too few (n = 1)" and not auc.supported
    ok = show("specificity", 0.0, None, one_normal, min_positives=1, min_negatives=1)
    assert ok.value == "0.000" and ok.method == "exact"  # the minimum is settable


def test_a_clean_record_reads_none_found():
    occ = {"auc_full": 0.95, "auc_masked": 0.52, "masked_interval": [0.4, 0.63],
           "auc_lungs_only": 0.93, "lungs_only_interval": [0.88, 0.97]}
    base = {"baseline": {"auc": 0.55, "interval": [0.4, 0.7]}, "model_auc": 0.95}
    verdict = verdict_of(record(metrics(split_results(occlusion=occ), shortcut_baseline=base)))
    assert verdict.reading == "none found", verdict.text_lines()
    assert levels(verdict)["occlusion"] == levels(verdict)["baseline"] == "none"


def test_an_occlusion_that_keeps_the_separation_is_strong_and_the_rule_is_settable():
    occ = {"auc_full": 0.99, "auc_masked": 0.97, "masked_interval": [0.9, 1.0],
           "auc_lungs_only": 0.95, "lungs_only_interval": [0.9, 0.99]}
    data = metrics(split_results(occlusion=occ))
    assert verdict_of(record(data)).reading == "strong shortcut evidence"
    relaxed = {"strong_auc": 0.95, "some_auc": 0.95, "kept": 1.0}  # the evaluator's options
    data = metrics(split_results(occlusion=occ, occlusion_rules=relaxed))
    # neither region keeps all of the separation, as kept = 1.0 asks: it cannot say where
    assert levels(verdict_of(record(data)))["occlusion"] == "info"


def test_a_baseline_the_model_does_not_beat_is_strong():
    base = {"baseline": {"auc": 0.99, "interval": [0.97, 1.0],
                         "difference": {"value": -0.26, "interval": [-0.33, -0.19]}},
            "model_auc": 0.73}
    verdict = verdict_of(record(metrics(split_results(), shortcut_baseline=base)))
    assert levels(verdict)["baseline"] == "strong"
    line = next(e for e in verdict.evidence if e.key == "baseline")
    assert "-0.260 [-0.330, -0.190]" in line.finding


def test_a_leaky_split_is_flagged_and_a_constant_call_is_no_shortcut_evidence():
    leaky = record(metrics(split_results()), config={"split": {"by": "image"}})
    assert levels(verdict_of(leaky))["protocol"] == "strong"
    constant = record(metrics(split_results(counts={"tp": 20, "fn": 0, "tn": 0, "fp": 20})))
    verdict = verdict_of(constant)
    assert "model" not in levels(verdict) and verdict.level == "unchecked"
    specificity = verdict.headline["metrics"]["specificity"]
    assert specificity["shown"] == "0.000" and specificity["interval"] == "[0.000, 0.168] exact"


def test_a_generator_that_saw_held_out_patients_and_duplicates_across_splits_are_strong():
    generator = {"name": "dcgan", "synthetic": 10,
                 "fitted_on": {"images": 30, "held_out_images_seen": 0,
                               "held_out_patients_seen": 2}}
    audit = {"split": {"counts": {"test": {}}}, "duplicates": {"across_splits": 3}}
    verdict = verdict_of(record(metrics(split_results(), generator=generator), audit=audit))
    line = next(e for e in verdict.evidence if e.key == "protocol")
    assert line.level == "strong"
    assert line.finding == ("3 duplicate pairs across splits; the generator learnt from 2 "
                            "validation or test images or patients")


def test_an_external_evaluation_says_what_it_shared_and_kept():
    sentence = ("3 images are copies of images that trained this model, 5 images are of "
                "patients whose images trained this model")
    checked = {"images": 50, "excluded": 8, "kept": 42, "sentence": sentence,
               "by_kind": {"copy": 3, "patient": 5},
               "disjoint_by": ["content hash", "copy (re-saved, ...)", "patient id"]}
    before = {"images": 50, "excluded": 8, "kept": 42,
              "sentence": "8 of these images trained this model",
              "by_kind": {"near-duplicate": 3, "patient": 5}, "disjoint_by": ["content hash"]}
    unproven = {**checked, "disjoint_by": []}
    data = record_of(Path("/nowhere/run"), config={"split": {"by": "patient"}},
                     audit={"split": {"counts": {"test": {}}}},
                     metrics=metrics(split_results()),
                     external={"other": metrics(split_results(), overlap=checked),
                               "before": metrics(split_results(), overlap=before),
                               "older": metrics(split_results(), overlap=unproven),
                               "unchecked": metrics(split_results())})
    lines = {e.key: e for e in verdict_of(data).evidence if e.key.startswith("overlap")}
    assert set(lines) == {"overlap-other", "overlap-before", "overlap-older"}
    assert lines["overlap-other"].finding == f"{sentence}; 42 of 50 are neither"
    assert lines["overlap-other"].meaning == \
        "metrics on other use only the 42 images that are neither"
    # an older record, whose sentence may call a patient match "trained", is not quoted
    assert lines["overlap-before"].finding == \
        "8 of 50 images are the run's or of its patients (near-duplicate 3, patient 5); 42 kept"
    assert lines["overlap-older"].meaning == "metrics on older use only the 42 other images"
    assert all(e.level == "info" for e in lines.values())


def test_a_source_probe_above_chance_within_a_class_is_some_evidence():
    probe = {"within_class": {"normal": {"images": 120, "accuracy": 0.97, "chance": 0.5}}}
    verdict = verdict_of(record(metrics(split_results(probe=probe))))
    assert levels(verdict)["source-probe"] == "some" and verdict.reading == \
        "some shortcut evidence"
    line = next(e for e in verdict.evidence if e.key == "source-probe")
    assert "Wilson, n = 120" in line.finding and line.interval[0] > 0.9


def test_a_bad_report_setting_in_the_run_config_is_one_error_naming_the_key(tmp_path: Path):
    with pytest.raises(RunError, match=r"report\.verdict\.baseline_auc"):
        verdict_of(record(metrics(split_results()), path=tmp_path,
                          config={"report": {"verdict": {"baseline_auc": 7}}}))


def test_a_run_made_before_the_rules_moved_into_the_evaluators_still_reads():
    old = {"split": {"by": "patient"},
           "report": {"verdict": {"baseline_auc": 0.75, "occlusion_some": 0.65,
                                  "probe_margin": 0.15, "loso_floor": 0.5}}}
    assert verdict_of(record(metrics(split_results()), config=old)).reading == "not checked"


def test_a_run_without_any_shortcut_check_reads_not_checked_never_none_found():
    verdict = verdict_of(record(metrics(split_results())))
    assert verdict.reading == "not checked", verdict.text_lines()
    assert {e.level for e in verdict.evidence if e.key != "protocol"} <= {"info"}
    assert verdict_of(record({})).headline["metrics"] == {}


def line(key: str, level: str, *, shortcut_check: bool = True) -> EvidenceLine:
    return EvidenceLine(key=key, label=key, level=level, finding="-", meaning="-",
                        shortcut_check=shortcut_check)


def test_the_reading_is_the_worst_counted_level_and_info_never_counts():
    assert overall([line("a", "none"), line("b", "some"), line("c", "none")])[0] == \
        "some shortcut evidence"
    assert overall([line("a", "some"), line("b", "strong")])[0] == "strong shortcut evidence"
    assert overall([line("a", "none"), line("b", "info")])[0] == "none found"
    reading, sentence = overall([line("a", "none"), line("mine", "strong")])
    assert reading == "strong shortcut evidence" and sentence.endswith("(mine)")


def test_none_found_needs_a_measured_shortcut_check():
    assert overall([])[0] == "not checked"
    assert overall([line("protocol", "none", shortcut_check=False)])[0] == "not checked"
    assert overall([line("probe", "info")])[0] == "not checked"  # not measured
    assert overall([line("protocol", "none", shortcut_check=False),
                    line("probe", "none")])[0] == "none found"
    # a line that is no shortcut check still counts when it finds something
    assert overall([line("protocol", "strong", shortcut_check=False)])[0] == \
        "strong shortcut evidence"


def test_the_headline_is_the_first_evaluator_s_that_gave_one():
    first = split_results()["headline"]
    other = Findings(results={}, headline=classification.headline(
        {"accuracy": 0.1, "counts": {"tp": 1, "fp": 1, "tn": 1, "fn": 1}}))
    entry = stored({"mine": Findings(results={"x": 1}),
                    "classification": Findings(results={}, headline=Headline.model_validate(
                        first)), "later": other})
    assert entry["headline_from"] == "classification" and entry["headline"] == first
    assert entry["evaluators"]["mine"] == {"x": 1} and "mine" not in entry["evidence"]


def test_the_baseline_is_named_for_what_it_read():
    """A baseline read outside the lungs is the outside-the-lungs baseline; an older run's,
    read over the whole image, is never called blind to the lungs."""
    base = {"baseline": {"auc": 0.99, "interval": [0.97, 1.0],
                         "difference": {"value": -0.2, "interval": [-0.3, -0.1]}},
            "model_auc": 0.79}
    old = verdict_of(record(metrics(split_results(), shortcut_baseline=base)))
    line = next(e for e in old.evidence if e.key == "baseline")
    assert line.label == "image-property baseline (whole image, lungs included)"
    assert "outside the lungs" not in line.meaning and "rerun the audit" in line.meaning
    new = verdict_of(record(metrics(split_results(),
                                    shortcut_baseline={**base, "reads": "outside"})))
    line = next(e for e in new.evidence if e.key == "baseline")
    assert line.label == "outside-the-lungs baseline" and line.level == "strong"
    assert line.meaning.startswith("a classifier that reads only outside the lungs does as well")
