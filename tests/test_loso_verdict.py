"""The verdict of a ``bamnet loso`` folder, on hand-made folders (no training): each
held-out run's own line for its source, "not judged" where no evaluator drew one, and a
report of the folder that says only true things."""

from __future__ import annotations

import json
from pathlib import Path

from bamnet_testing import TINY_CONFIG
from test_verdict_rules import metrics, stored

from bamnet_core.contract import Findings
from bamnet_core.runs import layout
from bamnet_core.runs.files import LosoFile, MetricsFile
from bamnet_core.runs.folder import RunFolder
from bamnet_paper.evaluators import PerSourceEvaluator

ROWS = {"ward": {"classes": ["covid"], "sensitivity": 0.0, "specificity": None},
        "kids": {"classes": ["normal"], "sensitivity": None, "specificity": 0.92}}


def held_out_run(folder: Path, source: str, *, judged: bool = True) -> str:
    """A finished run that held ``source`` out; its per-source line judges it when
    ``judged`` (else no evaluator drew a line for it)."""
    name = f"without-{source}"
    run = RunFolder(folder / name)
    run.path.mkdir(parents=True)
    run.write_text(layout.CONFIG, TINY_CONFIG.replace("[split]\n", f'[split]\nhold_out_source = '
                                                                    f'"{source}"\n'))
    row = {**ROWS[source], "images": 12}
    found = {}
    if judged:
        line = PerSourceEvaluator().line({source: row})
        found["per-source"] = Findings(results={"held_out": {source: row}}, evidence=(line,))
    run.write_model(layout.METRICS, MetricsFile.model_validate(metrics(stored(found))))
    return name


def loso_folder(tmp_path: Path, *, judged: bool = True) -> Path:
    folder = tmp_path / "tiny-loso"
    folder.mkdir()
    (folder / layout.CONFIG).write_text(TINY_CONFIG, encoding="utf-8")
    sources = [{"source": s, "images": 12, "classes": r["classes"], "sensitivity":
                r["sensitivity"], "specificity": r["specificity"],
                "run": held_out_run(folder, s, judged=judged or s == "kids")}
               for s, r in ROWS.items()]
    summary = LosoFile.model_validate({"held_out": list(ROWS), "min_images": 10,
                                       "skipped": ["tiny-site"],
                                       "failed": {"far": "too few images left to train"},
                                       "sources": sources})
    RunFolder(folder).write_model(layout.LOSO_JSON, summary)
    return folder


def test_report_on_a_loso_folder_writes_its_verdict_and_nothing_false(cli, tmp_path: Path):
    folder = loso_folder(tmp_path)
    result = cli("report", str(folder), "--json")
    assert result.exit_code == 0, result.stderr
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict["reading"] == "some shortcut evidence"
    lines = {e["label"]: e for e in verdict["evidence"]}
    assert lines["held out: ward"]["level"] == "some"
    assert lines["held out: ward"]["finding"].startswith("ward (held out, 12 images): sens 0.00")
    assert lines["held out: kids"]["level"] == "none"
    assert lines["held out: far"]["level"] == "info" and "too few" in lines["held out: far"][
        "meaning"]
    assert lines["not held out"]["finding"] == "tiny-site"
    page = (folder / layout.REPORT).read_text(encoding="utf-8")
    card = (folder / layout.MODEL_CARD).read_text(encoding="utf-8")
    for text in (page, card):
        assert "held out: ward" in text and "without-ward" in text
        for false in ("no test split", "None patients", "None split", "Metrics ("):
            assert false not in text
    assert f'href="without-ward/{layout.REPORT}"' not in page  # that run wrote no report


def test_a_source_no_evaluator_judged_says_so_and_the_verdict_does_not_count_it(
        cli, tmp_path: Path):
    folder = loso_folder(tmp_path, judged=False)
    result = cli("report", str(folder), "--json")
    assert result.exit_code == 0, result.stderr
    verdict = json.loads(result.stdout)["verdict"]
    ward = next(e for e in verdict["evidence"] if e["label"] == "held out: ward")
    assert ward["level"] == "info" and "not judged" in ward["finding"]
    assert "no evaluator of its run judged held-out sources" in ward["meaning"]
    assert verdict["reading"] == "none found"  # kids, the one judged, held up


def test_one_run_options_on_a_loso_folder_are_one_error_line(cli, tmp_path: Path):
    folder = loso_folder(tmp_path)
    result = cli("report", str(folder), "--redact")
    assert result.exit_code == 1 and result.stderr.count("Error:") == 1
    assert "leave-one-source-out" in result.stderr and "--redact describes one run" in \
        result.stderr and f"bamnet report {folder}/<run>" in result.stderr


def test_compare_on_a_loso_folder_puts_each_held_out_run_beside_the_others(cli,
                                                                          tmp_path: Path):
    folder = loso_folder(tmp_path)
    result = cli("compare", str(folder), "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [Path(r).name for r in payload["runs"]] == ["without-ward", "without-kids"]
    found = [[e["finding"] for e in v["evidence"] if e["key"] == "loso"]
             for v in payload["verdicts"]]
    assert found[0][0].startswith("ward (held out") and found[1][0].startswith("kids (held")
    page = Path(payload["compare"]).read_text(encoding="utf-8")
    assert "leave one source out" in page and "ward (held out, 12 images)" in page


def test_a_held_out_rate_on_too_few_images_of_its_class_is_shown_not_judged():
    evaluator = PerSourceEvaluator()
    few = {"figure1": {"images": 36, "positives": 33, "sensitivity": 0.85, "specificity": 0.0}}
    line = evaluator.line(few)
    assert line.level == "none"
    assert line.finding == "figure1 (held out, 36 images): sens 0.850, spec too few (n = 3)"
    enough = {"ward": {"images": 36, "positives": 30, "sensitivity": 0.85, "specificity": 0.0}}
    assert evaluator.line(enough).level == "some"
