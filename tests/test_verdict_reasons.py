"""The verdict's reasons are true: a check that is off says so, a class/source confound is a
protocol line, the subgroup line names its test and the rate it flags (hand-made records)."""

from __future__ import annotations

import numpy as np
from test_verdict_rules import levels, metrics, record, split_results

from bamnet_core.contract import Sample
from bamnet_core.data.audit import audit_samples
from bamnet_core.data.splits import PatientSplit
from bamnet_core.report.verdict import verdict_of


def lines(verdict) -> dict:
    return {e.key: e for e in verdict.evidence}


def confounded(share_covid_own: float) -> dict:
    """``data-audit.json``'s confounding for two sources, covid from its own site at
    ``share_covid_own``."""
    own = round(share_covid_own, 4)
    return {"split": {"counts": {"test": {}}}, "confounding": {
        "sources": 2, "source_only_accuracy": 1.0, "majority_baseline": 0.5,
        "per_class": {
            "covid": {"images": 40, "sources": ["ward", "kids"],
                      "single_class_sources": {"ward": 40} if own == 1 else {},
                      "single_class_share": own, "dominated_sources": {"ward": int(40 * own)},
                      "dominated_share": own},
            "normal": {"images": 60, "sources": ["kids"],
                       "single_class_sources": {"kids": 60} if own == 1 else {},
                       "single_class_share": 1.0 if own == 1 else 0.0,
                       "dominated_sources": {"kids": 60}, "dominated_share": 1.0}}}}


def test_each_class_from_its_own_sources_is_a_strong_protocol_line():
    verdict = verdict_of(record(metrics(split_results()), audit=confounded(1.0)))
    protocol = lines(verdict)["protocol"]
    assert protocol.level == "strong" and "sources of its own" in protocol.finding
    assert "covid: ward" in protocol.finding and "100 real images" in protocol.finding
    assert "bamnet loso" in protocol.meaning
    assert verdict.reading == "strong shortcut evidence"


def test_a_confound_above_the_documented_share_is_some_and_below_it_nothing():
    audit = confounded(0.95)
    audit["confounding"]["per_class"]["normal"]["dominated_share"] = 0.6
    some = lines(verdict_of(record(metrics(split_results()), audit=audit)))["protocol"]
    assert some.level == "some"
    assert some.finding == ("95% of the 40 'covid' images (all splits) come from sources at "
                            "least 90% 'covid' (ward)")
    config = {"split": {"by": "patient"}, "report": {"verdict": {"confound_share": 0.99}}}
    kept = lines(verdict_of(record(metrics(split_results()), audit=audit, config=config)))
    assert kept["protocol"].level == "none"


def test_a_run_that_holds_the_source_out_is_not_called_confounded():
    config = {"split": {"by": "patient", "hold_out_source": "ward"}}
    verdict = verdict_of(record(metrics(split_results()), audit=confounded(1.0), config=config))
    assert levels(verdict)["protocol"] == "none"


def test_subgroups_off_in_the_config_say_so():
    config = {"split": {"by": "patient"}, "audit": {"subgroups": False}}
    line = lines(verdict_of(record(metrics(split_results()), config=config)))["subgroups"]
    assert line.level == "info" and line.finding == "off in the config"
    assert "audit.subgroups = false" in line.meaning and "two groups" not in line.meaning


def subgroups(worse: bool) -> dict:
    comparison = {"metric": "sensitivity", "group": 0.2, "rest": 0.9, "difference": -0.7,
                  "interval": [-0.9, -0.5], "p": 0.0001, "p_holm": 0.0006, "worse": worse}
    return {"split": "test", "min_images": 5, "test": "one-sided permutation test, Holm-corrected",
            "tests": 6, "worse": ["sex=F"] if worse else [],
            "by": {"sex": [{"group": "F", "images": 30, "patients": 30, "positives": 10,
                            "accuracy": 0.7, "sensitivity": 0.2, "specificity": 0.95,
                            "comparisons": [comparison], "worse": worse},
                           {"group": "M", "images": 30, "patients": 30, "positives": 10,
                            "accuracy": 0.9, "sensitivity": 0.9, "specificity": 0.9,
                            "worse": False}]}}


def test_the_subgroup_line_names_the_rate_the_split_and_the_test():
    flagged = lines(verdict_of(record(metrics(split_results(), subgroups=subgroups(True)))))
    line = flagged["subgroups"]
    assert line.level == "some"
    assert "sex=F: sensitivity 0.200 against 0.900 (p < 0.001 corrected, 30 images)" in \
        line.finding
    assert "test split" in line.finding and "Holm" in line.rule and "6 tests" in line.rule
    clean = lines(verdict_of(record(metrics(split_results(), subgroups=subgroups(False)))))
    assert clean["subgroups"].level == "none" and "6 tests" in clean["subgroups"].finding


def test_the_leaky_split_warning_names_the_splits_its_patients_sit_in():
    samples = [Sample(path=f"/x/{i}.png", label="covid" if i % 2 else "normal",
                      patient_id=f"p{i // 2}", source="one") for i in range(12)]
    # p0..p2 in training and test, p3 in training and validation, p4, p5 in one split each
    assignment = {"train": [samples[i] for i in (0, 2, 4, 6)],
                  "test": [samples[i] for i in (1, 3, 5, 8, 9)],
                  "val": [samples[i] for i in (7, 10, 11)]}
    split = PatientSplit(assignment=assignment, by="image", seed=0)
    report = audit_samples(samples, split=split, duplicates=False, shortcut_threshold=None)
    warning = next(w for w in report["warnings"] if "leaky" in w)
    assert "3 patients in training and test, 1 in training and validation" in warning
    assert "training and validation (4" not in warning


def test_the_protocol_line_names_the_splits_its_patients_cross():
    audit = {"split": {"counts": {"test": {}}, "patients_in_several_splits": 88,
                       "patients_by_splits": {"train+test": 55, "train+val": 33}}}
    line = lines(verdict_of(record(metrics(split_results()), audit=audit)))["protocol"]
    assert line.level == "strong"
    assert line.finding == ("88 patients in several splits (55 patients in training and test, "
                            "33 in training and validation)")
    leaky = lines(verdict_of(record(metrics(split_results()), audit=audit,
                                    config={"split": {"by": "image"}})))["protocol"]
    assert "can sit in several splits (55 patients in training and test" in leaky.finding


def test_checks_switched_off_in_the_config_say_so_and_leave_the_run_unchecked():
    config = {"split": {"by": "patient"}, "evaluate": {"evaluators": ["classification"]},
              "audit": {"shortcut_baseline": False, "subgroups": False}}
    verdict = verdict_of(record(metrics(split_results()), config=config))
    found = lines(verdict)
    assert found["baseline"].finding == "off in the config"
    assert "audit.shortcut_baseline = false" in found["baseline"].meaning
    assert found["subgroups"].finding == "off in the config"
    assert found["evaluators"].finding == "only classification (evaluate.evaluators)"
    assert "off in the config" in found["evaluators"].meaning
    assert not any("fewer than two sources" in e.meaning or "two groups" in e.meaning
                   for e in verdict.evidence)
    assert verdict.reading == "not checked"


def test_a_run_with_a_measured_check_gets_no_evaluators_line():
    config = {"split": {"by": "patient"}, "evaluate": {"evaluators": ["classification"]}}
    found = lines(verdict_of(record(metrics(split_results(), subgroups=subgroups(False)),
                                    config=config)))
    assert "evaluators" not in found and found["subgroups"].level == "none"


def test_the_duplicate_warning_names_the_splits_its_pairs_straddle(tmp_path):
    from fixtures_images import write_png

    image = np.zeros((32, 32), np.uint8)
    image[8:24, 8:24] = 200
    paths = []
    for i, name in enumerate(("a", "b", "c", "d")):
        paths.append(tmp_path / f"{name}.png")
        write_png(paths[-1], np.roll(image, i % 2, axis=0) if name in "ab" else 255 - image)
    samples = [Sample(path=str(p), label="normal", patient_id=f"p{i}", source="one")
               for i, p in enumerate(paths)]
    # a and b (alike) in validation and test; c and d (alike) in validation and test too
    split = PatientSplit(assignment={"train": [], "val": [samples[0], samples[2]],
                                     "test": [samples[1], samples[3]]}, by="patient", seed=0)
    report = audit_samples(samples, split=split, shortcut_threshold=None)
    warning = next(w for w in report["warnings"] if "straddle" in w)
    assert "(2 pairs in validation and test)" in warning
    assert "trained on" not in warning and "chose the epoch or threshold" in warning


def test_duplicates_between_validation_and_test_are_not_called_trained_on():
    audit = {"split": {"counts": {"test": {}}},
             "duplicates": {"across_splits": 2, "straddled": {"val+test": 2}}}
    line = lines(verdict_of(record(metrics(split_results()), audit=audit)))["protocol"]
    assert line.level == "strong"
    assert line.finding == "2 duplicate pairs across splits (2 pairs in validation and test)"
    assert "trained on" not in line.meaning and "chose the epoch" in line.meaning
    audit["duplicates"]["straddled"] = {"train+test": 1, "val+test": 1}
    line = lines(verdict_of(record(metrics(split_results()), audit=audit)))["protocol"]
    assert "trained on" in line.meaning
