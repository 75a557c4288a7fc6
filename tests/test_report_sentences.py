"""Claimed vs reproduced sets a run beside the paper's numbers only as like with like."""

from __future__ import annotations

import html
from pathlib import Path

from test_verdict_rules import metrics, split_results

from bamnet_core.report.record import record_of
from bamnet_core.report.sections import claims_section

CONFIG = {"split": {"by": "patient"}, "backbone": {"name": "small-cnn"},
          "data": {"classes": ["normal", "covid"], "positive": "covid"}}


def claims(by_source: dict) -> str:
    run = record_of(Path("/nowhere/run"), config=CONFIG, metrics=metrics(split_results()),
                    audit={"split": {"counts": {"test": {}}}, "by_source": by_source})
    return " ".join(html.unescape(claims_section(run)).split())


def test_a_run_on_synthetic_phantoms_is_not_set_beside_the_paper_as_a_reproduction():
    text = claims({"synthetic-cxr": {"covid": 60, "normal": 60}})
    assert "99.50%" in text and "120 synthetic phantoms from 1 source" in text
    assert "NOT comparable: synthetic phantoms, not chest X-rays; this row tests the " \
        "pipeline, not the paper's claim" in text


def test_a_run_on_real_images_says_its_data_is_like_the_paper_s():
    text = claims({"ieee8023": {"covid": 40}, "kermany": {"normal": 40}})
    assert "NOT comparable" not in text
    assert "real chest X-rays, as the paper's (compare the protocol and the sources)" in text
