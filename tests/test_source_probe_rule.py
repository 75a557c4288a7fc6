"""The source probe counts as shortcut evidence only where the source tells the class."""

from __future__ import annotations

from bamnet_paper.evaluators.source_probe import SourceProbeEvaluator, sources_alike

PROBE = {"within_class": {"normal": {"images": 40, "accuracy": 0.95, "chance": 0.5}}}


def test_features_that_tell_hospitals_apart_are_evidence_where_hospitals_tell_the_class():
    confounded = {"north": {"images": 40, "positive": 38}, "south": {"images": 40, "positive": 3}}
    found = SourceProbeEvaluator().line({**PROBE, "class_mix_by_source": confounded})
    assert found.level == "some" and "tell the hospitals apart" in found.meaning


def test_hospitals_holding_the_classes_alike_make_the_probe_no_evidence():
    balanced = {"north": {"images": 40, "positive": 21}, "south": {"images": 40, "positive": 19}}
    found = SourceProbeEvaluator().line({**PROBE, "class_mix_by_source": balanced})
    assert found.level == "none"
    assert "every source holds the classes alike (positive share 48% to 52%, 50% overall)" \
        in found.meaning and "does not give the class" in found.meaning


def test_a_run_without_the_recorded_mix_keeps_the_old_rule():
    assert sources_alike(None) == ""
    assert SourceProbeEvaluator().line(PROBE).level == "some"
