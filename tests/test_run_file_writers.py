"""Each run file has one writer: ``data-audit.json`` is the audit stage's alone.

What evaluation learns later (subgroup warnings) lives in ``metrics.json``, and the user
still sees it where the audit's warnings are shown: the run's output, the report and the
model card.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bamnet_core.runs import layout

FINDING = "source synthetic does worse (a planted subgroup finding)"


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluation finds one subgroup warning, whatever the tiny run's numbers."""
    from bamnet_core.experiment import audit_stage

    monkeypatch.setattr(audit_stage, "subgroup_warnings", lambda groups: [FINDING])


def test_evaluation_findings_go_to_metrics_and_the_audit_file_is_never_rewritten(
        cli, tiny_config: Path, tmp_path: Path, planted):
    out = tmp_path / "runs"
    stopped = cli("run", str(tiny_config), "--set", "audit.subgroups=true", "--until", "audit",
                  "-o", str(out))
    assert stopped.exit_code == 0, stopped.stderr
    run_dir = next(out.iterdir())
    audited = (run_dir / layout.AUDIT).read_bytes()
    finished = cli("resume", str(run_dir), "--json")
    assert finished.exit_code == 0, finished.stderr
    assert (run_dir / layout.AUDIT).read_bytes() == audited  # the audit stage's, untouched
    metrics = json.loads((run_dir / layout.METRICS).read_text())
    assert metrics["warnings"] == [FINDING] and "subgroups" in metrics
    assert FINDING in json.loads(finished.stdout)["warnings"]  # the run's output still says it
    assert FINDING in (run_dir / layout.REPORT).read_text()
    assert FINDING in (run_dir / layout.MODEL_CARD).read_text()
    redone = cli("resume", str(run_dir), "--from", "evaluate")
    assert redone.exit_code == 0, redone.stderr
    assert f"Warning: {FINDING}" in redone.stderr  # said once, not once per attempt
    assert redone.stderr.count(FINDING) == 1
    assert (run_dir / layout.AUDIT).read_bytes() == audited
