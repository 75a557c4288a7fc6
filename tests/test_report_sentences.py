"""The report's sentences say what their own numbers say: claimed vs reproduced sets a run
beside the paper only as like with like, and occlusion never "loses" a separation it keeps."""

from __future__ import annotations

import html
from pathlib import Path

from test_verdict_rules import metrics, split_results

from bamnet_core.report.record import record_of
from bamnet_core.report.sections import claims_section

CONFIG = {"split": {"by": "patient"}, "backbone": {"name": "small-cnn"},
          "data": {"classes": ["normal", "covid"], "positive": "covid"}}


def claims(by_source: dict, split: dict | None = None) -> str:
    run = record_of(Path("/nowhere/run"), config=CONFIG, metrics=metrics(split or split_results()),
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


def test_an_accuracy_on_too_few_images_is_not_set_beside_the_paper_s_as_a_number():
    two = split_results(counts={"tp": 1, "fn": 0, "tn": 0, "fp": 1}, auc=(1.0, 1.0, 1.0))
    text = claims({"ieee8023": {"covid": 1}, "kermany": {"normal": 1}}, two)
    assert "run: test</td><td>too few (n = 1)</td>" in text and "50.00%" not in text


def occlusion_text(full: float, masked: float) -> str:
    from bamnet_core.report.sections import probes_section

    occ = {"auc_full": full, "auc_masked": masked, "auc_lungs_only": full, "fill": 0.1,
           "still_separates": False}
    run = record_of(Path("/nowhere/run"), config=CONFIG,
                    metrics=metrics(split_results(occlusion=occ)),
                    audit={"split": {"counts": {"test": {}}}})
    return " ".join(html.unescape(probes_section(run, lambda *a, **k: "")).split())


def test_the_occlusion_sentence_is_what_its_own_numbers_say():
    assert "it keeps 100% of its separation with the lungs hidden" in \
        occlusion_text(0.33, 0.33)  # a drop of +0.00 never "loses most of its separation"
    assert "loses most" not in occlusion_text(0.33, 0.33)
    assert "has no separation to lose" in occlusion_text(0.52, 0.50)
    assert "loses most of its separation with the lungs hidden (20% kept)" in \
        occlusion_text(0.75, 0.55)
