"""Redaction of a run record: keyed pseudonyms, paths as source and index, free text scrubbed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bamnet_core.report.record import RunRecord, plain, record_of
from bamnet_core.report.redact import Redactor, redact_record
from bamnet_core.runs import layout


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", "redact-test-key-0123456789abcdef0123")
    folder = tmp_path / "20260101-000000-x"
    folder.mkdir()
    samples = [{"path": f"/data/St-Elsewhere/{p}/{i}.png", "patient_id": p, "source": "site",
                "label": "covid"} for p in ("JohnSmith-77", "MRN123456") for i in range(2)]
    (folder / layout.SPLIT_JSON).write_text(json.dumps(
        {"version": 2, "by": "patient", "seed": 0,
         "assignment": {"train": samples[:2], "val": samples[2:], "test": []}}))
    return folder


def record(run: Path, **parts) -> RunRecord:
    return record_of(run, **parts)


def test_ids_and_paths_are_replaced_everywhere(run: Path) -> None:
    audit = {"duplicates": {"pairs": [{"a": "/data/St-Elsewhere/MRN123456/0.png",
                                       "b": "/data/St-Elsewhere/JohnSmith-77/1.png",
                                       "patient_a": "MRN123456", "patient_b": "JohnSmith-77"}]},
             "warnings": ["patient MRN123456 has images in /data/St-Elsewhere/other.png"]}
    config = {"data": {"source": "manifest-csv", "path": "/data/St-Elsewhere/manifest.csv",
                       "classes": ["normal", "covid"], "positive": "covid"}}
    meta = {"bamnet_version": "0.1.0", "status": "complete",
            "config_origin": "/home/dr-who/cfg.toml", "host": "pacs-1"}
    redacted = redact_record(record(run, audit=audit, config=config, meta=meta))
    text = json.dumps([plain(redacted.audit), redacted.config.document,
                       plain(redacted.meta)]) + redacted.config_text
    for value in ("MRN123456", "JohnSmith-77", "St-Elsewhere", "dr-who", "pacs-1"):
        assert value not in text
    pair = redacted.audit.duplicates.pairs[0]
    assert pair["a"] == "site#3" and pair["b"] == "site#2"
    assert pair["patient_a"].startswith("p-") and pair["patient_a"] != pair["patient_b"]
    assert pair["patient_a"] in redacted.audit.warnings[0]  # the same pseudonym in text
    assert plain(redacted.meta) == {"schema_version": 1, "bamnet_version": "0.1.0",
                                    "status": "complete"}
    assert redacted.config.document["data"]["source"] == "manifest-csv"


def test_image_base_names_become_aliases(run: Path) -> None:
    metrics = {"splits": {"val": {"evaluators": {"gradcam": {"images": [
        {"file": "gradcam-val/0000.png", "image": "1.png"},
        {"file": "gradcam-val/0001.png", "image": "0.png"}]}}}}}
    shown = redact_record(record(run, metrics=metrics)).results("val", "gradcam")
    assert [i["image"] for i in shown["images"]] == ["<file>", "<file>"]  # two patients' 1.png
    assert shown["images"][0]["file"] == "gradcam-val/0000.png"


def test_image_file_names_in_free_text_become_aliases(run: Path) -> None:
    audit = {"warnings": ["2 image(s) look mislabelled, most suspicious first: 0.png, 1.png; "
                          "not 10.png"]}
    shown = redact_record(record(run, audit=audit)).audit.warnings[0]
    assert shown == ("2 image(s) look mislabelled, most suspicious first: <file>, <file>; "
                     "not 10.png")


def test_pseudonyms_are_stable_within_a_run_and_differ_across_runs(run: Path, tmp_path) -> None:
    first = Redactor(run).patient("MRN123456")
    assert Redactor(run).patient("MRN123456") == first
    other = tmp_path / "another-run"
    other.mkdir()
    assert Redactor(other).patient("MRN123456") != first


def test_a_run_without_a_split_still_scrubs_paths(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", "redact-test-key-0123456789abcdef0123")
    folder = tmp_path / "bare"
    folder.mkdir()
    redacted = redact_record(record(folder, audit={"note": "see C:\\PACS\\Jane\\1.dcm now"}))
    assert plain(redacted.audit)["note"] == "see <path> now"


def test_images_flag_needs_redact(cli, tmp_path: Path) -> None:
    result = cli("report", str(tmp_path), "--images")
    assert result.exit_code != 0 and "--redact" in result.stderr


def test_names_and_paths_the_user_gave_are_replaced_relative_or_absolute(run: Path) -> None:
    config = {"run": {"name": "StMarys-covid-2024"},
              "data": {"source": "image-folder", "root": "data/St-Elsewhere-CXR",
                       "classes": ["normal", "covid"], "positive": "covid"}}
    external = {"StMarys_Hospital": {"data": {"origin": "image-folder data/ext/StMarys_Hospital",
                                              "images": 24}}}
    audit = {"warnings": [f"{run.name} read data/St-Elsewhere-CXR (St-Elsewhere-CXR has 2 "
                          "unreadable files); StMarys-covid-2024 then StMarys_Hospital at "
                          "data/ext/StMarys_Hospital"]}
    redacted = redact_record(record(run, config=config, audit=audit, external=external))
    text = json.dumps([plain(redacted.audit), redacted.config.document,
                       {k: plain(v) for k, v in redacted.external.items()}])
    text += redacted.config_text + redacted.name
    for value in ("StMarys", "St-Elsewhere", "data/ext", run.name):
        assert value not in text, value
    assert redacted.audit.warnings[0] == ("run read <path> (<data folder> has 2 unreadable "
                                          "files); run then external#1 at <path>")
    assert redacted.name == "run" and list(redacted.external) == ["external#1"]
    assert redacted.external["external#1"].data.origin == "image-folder <path>"
    assert redacted.config.document["data"]["classes"] == ["normal", "covid"]  # kept
