"""``bamnet report --checklist`` and ``--model-card chai``: filled from the run, cited,
valid against the CHAI schema, and redacted like the shareable report."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from bamnet_core.errors import RunError
from bamnet_core.report.chai_card import DSIG_NAMESPACE, DSIG_SCHEMA, SCHEMA, chai_card, validate
from bamnet_core.report.checklists import CHECKLISTS, fill, markdown
from bamnet_core.report.checklists.items import value_at
from bamnet_core.report.record import record_of
from bamnet_core.report.redact import redact_record
from bamnet_core.runs import layout
from bamnet_core.runs.checklist_file import ChecklistFile
from bamnet_core.runs.folder import RunFolder

TINY_QUICKSTART = [
    "data.patients_per_class=12", "data.positive_patients=8", "data.size=48",
    "preprocess.size=32", "backbone.filters=[4, 8]", "backbone.dense=8", "train.epochs=1",
    "train.batch_size=8", "generator.epochs=1", "generator.size=16", "generator.batch_size=4",
    "generator.g_filters=4", "generator.d_filters=4", "generator.min_images=4",
    "generator.ratio=1.0", "export.onnx=false",
]
KEY = "standards-test-key-0123456789abcdef0123"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart, shrunk to seconds, run once for the tests below."""
    from bamnet_testing import run_cli

    base = tmp_path_factory.mktemp("standards")
    sets = [arg for pair in TINY_QUICKSTART for arg in ("--set", pair)]
    result = run_cli("run", "quickstart", *sets, "--output-dir", str(base), "--json")
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["run_dir"])


def _document(path: Path) -> object:
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text(encoding="utf-8"))
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_item_has_a_state_and_every_answer_cites_a_key_the_run_holds(cli, quickstart):
    result = cli("report", str(quickstart), "--checklist", "claim", "--checklist", "tripod-ai",
                 "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)["checklists"]
    assert set(payload) == {"claim", "tripod-ai"}
    for name, expected in (("claim", [str(n) for n in range(1, 45)]), ("tripod-ai", None)):
        assert Path(payload[name]["markdown"]) == quickstart / layout.checklist_md(name)
        filled = RunFolder(quickstart).read_model(layout.checklist_json(name), ChecklistFile)
        numbers = [item.number for item in filled.items]
        if expected:
            assert numbers == expected  # CLAIM 2024: 44 items
        else:  # TRIPOD+AI: 27 items, several with sub-items
            assert {n.rstrip("abcdefg") for n in numbers} == {str(n) for n in range(1, 28)}
            assert {"3a", "3b", "3c", "12a", "12g", "18f", "23b", "27c"} <= set(numbers)
        assert all(item.state in ("answered", "partly-answered", "author") for item in filled.items)
        assert payload[name]["counts"] == filled.counts()
        assert sum(filled.counts().values()) == len(filled.items)
        for item in filled.items:
            if item.state == "answered":
                assert item.evidence, f"{name} {item.number} answered without evidence"
            for evidence in item.evidence:
                file = quickstart / evidence.file
                assert file.is_file(), f"{name} {item.number}: no {evidence.file}"
                assert value_at(_document(file), evidence.key) is not None, \
                    f"{name} {item.number}: {evidence.file} has no key {evidence.key}"
            assert item.answer.strip()
        text = (quickstart / layout.checklist_md(name)).read_text(encoding="utf-8")
        assert f"| {filled.items[-1].number} |" in text


def test_the_report_appendix_holds_both_checklists(cli, quickstart):
    result = cli("report", str(quickstart), "--json")
    assert result.exit_code == 0, result.stderr
    assert "checklists" in json.loads(result.stdout)["sections"]
    page = (quickstart / layout.REPORT).read_text(encoding="utf-8")
    assert "CLAIM 2024" in page and "TRIPOD+AI" in page
    assert "Level at which partitions are disjoint" in page


def test_the_quickstart_chai_card_is_valid_against_the_published_schema(cli, quickstart):
    import xmlschema

    result = cli("report", str(quickstart), "--model-card", "chai", "--json")
    assert result.exit_code == 0, result.stderr
    card = json.loads(result.stdout)["chai_model_card"]
    xml = Path(card["xml"]).read_text(encoding="utf-8")
    assert Path(card["xml"]) == quickstart / layout.MODEL_CARD_CHAI
    schema = xmlschema.XMLSchema(str(SCHEMA), locations=[(DSIG_NAMESPACE, str(DSIG_SCHEMA))],
                                 allow="local")  # offline: the network is never asked
    schema.validate(xml)
    assert "BasicInfo/DeveloperContact" in card["left_for_author"]
    assert "[author: how to reach the developer]" in xml
    assert "ROC AUC (test)" in xml  # a headline metric with its interval, from the run


def test_a_card_off_the_schema_is_refused_naming_the_element(quickstart):
    from bamnet_core.report.record import read_run

    xml = chai_card(read_run(quickstart)).xml
    broken = xml.replace("<ModelName>", "<Name>").replace("</ModelName>", "</Name>")
    with pytest.raises(RunError, match="Name"):
        validate(broken)


def test_unknown_checklist_and_card_format_are_usage_errors(cli, quickstart):
    result = cli("report", str(quickstart), "--checklist", "consort")
    assert result.exit_code == 2
    assert "claim, tripod-ai" in result.stderr
    result = cli("report", str(quickstart), "--model-card", "hl7")
    assert result.exit_code == 2
    assert "chai" in result.stderr


def _planted_record(run: Path):
    samples = [{"path": f"/data/St-Elsewhere/{p}/{i}.png", "patient_id": p, "source": "site",
                "label": "covid"} for p in ("JohnSmith-77", "MRN123456") for i in range(2)]
    (run / layout.SPLIT_JSON).write_text(json.dumps(
        {"version": 2, "by": "patient", "seed": 0,
         "assignment": {"train": samples[:2], "val": samples[2:], "test": []}}))
    audit = {"images": 4, "patients": 2, "by_class": {"covid": 4},
             "by_source": {"site": {"covid": 4}},
             "duplicates": {"pairs": [{"a": "/data/St-Elsewhere/MRN123456/0.png",
                                       "b": "/data/St-Elsewhere/JohnSmith-77/1.png",
                                       "patient_a": "MRN123456", "patient_b": "JohnSmith-77"}]},
             "warnings": ["patient MRN123456 has images in /data/St-Elsewhere/other.png"]}
    config = {"run": {"name": "planted"}, "backbone": {"name": "small-cnn"},
              "data": {"source": "manifest-csv", "path": "/data/St-Elsewhere/manifest.csv",
                       "classes": ["normal", "covid"], "positive": "covid"}}
    meta = {"bamnet_version": "0.1.0", "status": "complete",
            "config_origin": "/home/dr-who/cfg.toml", "host": "pacs-1"}
    metrics = {"classes": ["normal", "covid"], "positive": "covid", "threshold": 0.5,
               "warnings": ["JohnSmith-77 looks unlike the rest: /data/St-Elsewhere/x.png"],
               "splits": {"val": {"images": 2, "patients": 1, "evaluators": {"gradcam": {
                   "layer": "conv", "images": [{"file": "gradcam-val/0000.png",
                                                "image": "0.png"}]}}}},
               "headline": {"split": "val"}}
    return record_of(run, audit=audit, config=config, meta=meta, metrics=metrics)


PLANTED = ("MRN123456", "JohnSmith-77", "St-Elsewhere", "dr-who", "pacs-1")


def test_redacted_checklists_and_card_hold_no_planted_identifier(tmp_path, monkeypatch):
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", KEY)
    run = tmp_path / "20260101-000000-planted"
    run.mkdir()
    record = _planted_record(run)
    full = "".join(markdown(fill(name, record)) for name in CHECKLISTS)
    assert "MRN123456" in full and "St-Elsewhere" in full  # the test plants what a run shows
    redacted = redact_record(record)
    shared = "".join(markdown(fill(name, redacted, redacted=True))
                     + fill(name, redacted, redacted=True).model_dump_json()
                     for name in CHECKLISTS) + chai_card(redacted).xml
    for value in PLANTED:
        assert value not in shared, value
    validate(chai_card(redacted).xml)


def test_with_redact_they_hold_nothing_the_shareable_report_does_not(cli, quickstart,
                                                                     monkeypatch):
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", KEY)
    result = cli("report", str(quickstart), "--redact", "--checklist", "claim", "--checklist",
                 "tripod-ai", "--model-card", "chai")
    assert result.exit_code == 0, result.stderr
    shared = quickstart / layout.SHAREABLE
    page = (shared / layout.REPORT).read_text(encoding="utf-8")
    made = "".join((shared / name).read_text(encoding="utf-8") for name in (
        layout.checklist_md("claim"), layout.checklist_json("claim"),
        layout.checklist_md("tripod-ai"), layout.checklist_json("tripod-ai"),
        layout.MODEL_CARD_CHAI))
    split = json.loads((quickstart / layout.SPLIT_JSON).read_text())
    identifiers = {value for samples in split["assignment"].values() for s in samples
                   for value in (s["patient_id"], s["path"], Path(s["path"]).name)}
    leaked = sorted(v for v in identifiers if v in made and v not in page)
    assert not leaked
    assert not any(v in made for v in identifiers if "/" in v)  # no path at all
    assert json.loads((shared / layout.checklist_json("claim")).read_text())["redacted"] is True


def test_a_rebuilt_report_rewrites_the_checklists_and_card_an_earlier_report_wrote(
        cli, quickstart, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(quickstart, run)
    shutil.rmtree(run / layout.CHECKLISTS, ignore_errors=True)  # other tests write them too
    (run / layout.MODEL_CARD_CHAI).unlink(missing_ok=True)
    assert cli("report", str(run), "--checklist", "claim", "--model-card", "chai").exit_code == 0
    metrics = json.loads((run / layout.METRICS).read_text())
    auc = next(m for m in metrics["splits"]["test"]["headline"]["metrics"]
               if m["key"] == "roc_auc")
    assert "0.432" not in (run / layout.checklist_md("claim")).read_text()
    auc["estimate"]["value"] = 0.4321  # as if evaluation had been redone
    metrics["threshold"] = 0.4321  # (the card shows the AUC only where the split carries it)
    (run / layout.METRICS).write_text(json.dumps(metrics))
    RunFolder(run).record("evaluate", [layout.METRICS])  # as a redone evaluation records it
    result = cli("report", str(run))  # no --checklist: what is there is derived, so redone
    assert result.exit_code == 0, result.stderr
    assert "ROC AUC 0.432" in (run / layout.checklist_md("claim")).read_text()
    assert "0.4321" in (run / layout.MODEL_CARD_CHAI).read_text()
    assert not (run / layout.checklist_md("tripod-ai")).exists()  # never asked for: not made
