"""Evaluators bring their own evidence: a third-party evaluator's verdict line changes a run's
reading, a bad Findings is that evaluator's error, and a config without ``[evaluate]
evaluators`` runs every evaluator registered as on by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bamnet_core.config import load_config
from bamnet_core.contract import EvidenceLine, Findings, Headline, HeadlineMetric
from bamnet_core.contract.evidence import Estimate
from bamnet_core.errors import PluginError
from bamnet_core.experiment.evaluation import NotJSON, findings_of
from bamnet_core.plugins.registry import Registry
from bamnet_core.runs import layout
from bamnet_core.testing import load_with

# A plugin distribution as a third party would ship it: an evaluator that looks for lead
# markers and finds them, drawing its line under a rule of its own (an option).
LEAD_MARKERS = """
from bamnet_core.contract import EvidenceLine, Findings, hookimpl

class LeadMarkers:
    '''Lead markers on the film: a shortcut the built-in checks do not look for.'''

    def __init__(self, *, share: float = 0.5):
        self.share = share

    def evaluate_context(self, context):
        found = 0.9  # every covid film of this hospital carries the marker
        return Findings(results={"share_marked": found}, evidence=(EvidenceLine(
            key="lead-markers", label="lead markers", level="strong" if found >= self.share
            else "none", finding=f"{found:.0%} of the positive images carry a marker",
            meaning="the marker alone tells the classes apart",
            rule=f"strong: a share of marked positives >= {self.share:g}", value=found),))

@hookimpl
def register_evaluators(register):
    register("lead-markers", LeadMarkers)
"""


def _verdict(cli, config: Path, out: Path, evaluators: str) -> dict:
    # the threshold pinned: on these few images a chosen one moves the subgroup line, which
    # is not what is compared here
    result = cli("run", str(config), "--output-dir", str(out), "--json", "--set",
                 f"evaluate.evaluators={evaluators}", "--set", "evaluate.threshold=0.5")
    assert result.exit_code == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_a_third_party_evaluator_s_strong_line_changes_the_reading(cli, tmp_path: Path,
                                                                    tiny_config: Path,
                                                                    install_fake):
    install_fake("bamnet-lead-markers", LEAD_MARKERS, "lead-markers")
    without = _verdict(cli, tiny_config, tmp_path / "a", '["roc"]')["verdict"]
    assert without["reading"] == "none found", without  # the core's own checks find nothing
    payload = _verdict(cli, tiny_config, tmp_path / "b", '["roc", "lead-markers"]')
    verdict = payload["verdict"]
    assert verdict["reading"] == "strong shortcut evidence", verdict
    line = next(e for e in verdict["evidence"] if e["key"] == "lead-markers")
    assert line["level"] == "strong" and line["label"] in verdict["sentence"]
    metrics = json.loads((Path(payload["run_dir"]) / layout.METRICS).read_text())
    test = metrics["splits"]["test"]
    assert test["evaluators"]["lead-markers"] == {"share_marked": 0.9}
    assert test["evidence"]["lead-markers"][0]["rule"] == "strong: a share of marked " \
        "positives >= 0.5"
    report = (Path(payload["run_dir"]) / layout.REPORT).read_text()
    assert "lead markers" in report


def _line(level: str = "some") -> EvidenceLine:
    return EvidenceLine(key="mine", label="mine", level=level, finding="f", meaning="m")


def test_a_findings_that_does_not_validate_is_refused_naming_where():
    bad = Findings.model_construct(results={}, evidence=(_line().model_copy(
        update={"level": "huge"}),), headline=None)
    with pytest.raises(NotJSON, match=r"findings\.evidence\.0\.level"):
        findings_of(bad)
    nan = Findings(results={}, headline=Headline(metrics=(HeadlineMetric(
        key="accuracy", label="accuracy", estimate=Estimate(value=float("nan"))),)))
    with pytest.raises(NotJSON, match=r"findings\.headline\.metrics\[0\]\.estimate\.value is "
                                      r"nan"):
        findings_of(nan)
    with pytest.raises(NotJSON, match="not a dict or Findings"):
        findings_of([1, 2])
    assert findings_of({"a": 1}) == Findings(results={"a": 1})


def test_a_config_without_evaluators_runs_every_default_one_in_registration_order(
        tiny_config: Path):
    class Quiet:
        """Registered, not on by default."""

        def evaluate(self, y_true, y_prob, *, class_names, positive, threshold):
            return {}

    class Mine:
        """On by default."""

        def evaluate(self, y_true, y_prob, *, class_names, positive, threshold):
            return {}

    class Plugin:
        @staticmethod
        def register_evaluators(register):
            register("quiet", Quiet)
            register("mine", Mine, default=True)

    from bamnet_core.contract import hookimpl

    Plugin.register_evaluators = staticmethod(hookimpl(Plugin.register_evaluators))
    host = load_with(Plugin(), names=["mine"])
    assert not host.failures, host.failures
    config = load_config(str(tiny_config), host.registry)
    assert config.evaluate.evaluators == ["classification", "roc", "calibration", "per-source",
                                          "source-probe", "occlusion", "gradcam", "mine"]
    assert config.document["evaluate"]["evaluators"] == config.evaluate.evaluators  # recorded


def test_only_an_evaluator_or_a_lung_field_estimator_may_be_on_by_default():
    with pytest.raises(PluginError, match="only evaluators and lung-field estimators take"):
        Registry().register("backbone", "b", lambda: None, plugin="p", default=True)


def test_a_key_that_moved_into_an_evaluator_s_options_is_read_there_with_a_notice(
        tiny_config: Path):
    registry = load_with().registry
    config = load_config(str(tiny_config), registry, overrides=[
        "report.verdict.occlusion_some=0.7", "evaluate.gradcam_images=3"])
    assert config.evaluate.options["occlusion"] == {"some_auc": 0.7}
    assert config.components.evaluators["occlusion"].some_auc == 0.7
    assert config.components.evaluators["gradcam"].correct_images == 3
    assert "report.verdict.occlusion_some is now [evaluate.options.occlusion] some_auc; read " \
        "as that" in config.notices
    assert "occlusion_some" not in config.document["report"]["verdict"]
    kept = load_config(str(tiny_config), registry, overrides=[
        "report.verdict.occlusion_some=0.7", "evaluate.options.occlusion.some_auc=0.9"])
    assert kept.evaluate.options["occlusion"] == {"some_auc": 0.9}  # the new key wins
