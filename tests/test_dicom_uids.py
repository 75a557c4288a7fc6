"""Score rows carry each DICOM file's SOPInstanceUID and StudyInstanceUID (``--uids``)."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from dicom_fixtures import make_dataset, phantom, save
from onnx_fixtures import write_tiny_model

from bamnet_core.score.rows import (
    csv_cells,
    csv_columns,
    record_from_cells,
    record_from_columns,
    record_to_columns,
)
from bamnet_core.score.scorer import ScoreRecord
from bamnet_core.score.uids import valid_uid

ROOT = "1.2.826.0.1.3680043.8.498.4242"  # distinctive UIDs: nothing else in a row holds them
SOP_A, STUDY_A = f"{ROOT}.1.1.1", f"{ROOT}.1.1"
SOP_B, STUDY_B = f"{ROOT}.2.1.1", f"{ROOT}.2.1"
SOP_NO_PIXELS, STUDY_NO_PIXELS = f"{ROOT}.3.1.1", f"{ROOT}.3.1"
EVIL = "=HYPERLINK(\"http://x\")"
OLD_HEADER = "path,prob_normal,prob_covid,label,threshold,model_sha256,error"


def dicom(path: Path, sop: str, study: str, *, pixels: bool = True) -> Path:
    ds = make_dataset(phantom(len(sop), 16))
    with warnings.catch_warnings():  # pydicom warns about the invalid UIDs planted here
        warnings.simplefilter("ignore")
        ds.SOPInstanceUID, ds.StudyInstanceUID = sop, study
        if not pixels:
            del ds.PixelData
        return save(ds, path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two DICOM files (one without a suffix), one with no pixels, one with a bad UID, a PNG."""
    root = tmp_path / "export"
    dicom(root / "a.dcm", SOP_A, STUDY_A)
    dicom(root / "series" / "IM0002", SOP_B, STUDY_B)
    dicom(root / "sr.dcm", SOP_NO_PIXELS, STUDY_NO_PIXELS, pixels=False)
    dicom(root / "evil.dcm", EVIL, STUDY_A + ".9" * 40)  # a formula and a 120-character UID
    cv2.imwrite(str(root / "plain.png"), np.full((12, 12), 90, np.uint8))
    return root


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path / "m.onnx")


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in rows}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_rows_carry_the_uids_and_other_files_get_empty_cells(folder, model, tmp_path, cli):
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(folder), "-o", str(out))
    assert result.exit_code == 3, result.stderr  # the file without pixels is an error row
    assert out.read_text().splitlines()[0] == OLD_HEADER + ",sop_instance_uid,study_instance_uid"
    rows = by_name(read_csv(out))
    assert (rows["a.dcm"]["sop_instance_uid"], rows["a.dcm"]["study_instance_uid"]) == \
        (SOP_A, STUDY_A)
    assert (rows["IM0002"]["sop_instance_uid"], rows["IM0002"]["study_instance_uid"]) == \
        (SOP_B, STUDY_B)
    # a file that cannot be scored still joins back to the PACS when its header is readable
    assert "no pixel data" in rows["sr.dcm"]["error"]
    assert rows["sr.dcm"]["sop_instance_uid"] == SOP_NO_PIXELS
    assert rows["plain.png"]["sop_instance_uid"] == rows["plain.png"]["study_instance_uid"] == ""
    # values that are not UIDs are written empty and said, never raw
    evil = rows["evil.dcm"]
    assert evil["error"] == "" and evil["label"]
    assert evil["sop_instance_uid"] == evil["study_instance_uid"] == ""
    assert "HYPERLINK" not in out.read_text() and ".9.9.9" not in out.read_text()
    assert "evil.dcm: SOPInstanceUID and StudyInstanceUID not a valid UID" in result.stderr
    assert "HYPERLINK" not in result.stderr


def test_jsonl_rows_carry_the_uids_and_the_summary_counts_notes(folder, model, tmp_path, cli):
    out = tmp_path / "s.jsonl"
    result = cli("score", str(model), str(folder), "-o", str(out), "--json")
    assert result.exit_code == 3, result.stderr
    summary = json.loads(result.stdout)
    assert summary["noted"] == 1 and summary["notes"][0]["path"].endswith("evil.dcm")
    rows = by_name([json.loads(line) for line in out.read_text().splitlines()])
    assert rows["IM0002"]["sop_instance_uid"] == SOP_B
    assert rows["IM0002"]["study_instance_uid"] == STUDY_B
    assert rows["plain.png"]["sop_instance_uid"] is None
    assert rows["evil.dcm"]["sop_instance_uid"] is None


def test_no_uids_leaves_the_columns_out(folder, model, tmp_path, cli):
    out = tmp_path / "s.csv"
    assert cli("score", str(model), str(folder), "-o", str(out), "--no-uids").exit_code == 3
    assert out.read_text().splitlines()[0] == OLD_HEADER
    assert ROOT not in out.read_text()
    jsonl = tmp_path / "s.jsonl"
    assert cli("score", str(model), str(folder), "-o", str(jsonl), "--no-uids").exit_code == 3
    assert all("sop_instance_uid" not in json.loads(line)
               for line in jsonl.read_text().splitlines())


def test_an_output_from_before_the_uids_is_refused_clearly_then_resumes_with_no_uids(
        folder, model, tmp_path, cli):
    # the rows bamnet wrote before the UID columns existed, for the first file
    first = cli("score", str(model), str(folder / "a.dcm"), "-o", str(tmp_path / "x.csv"))
    sha = read_csv(tmp_path / "x.csv")[0]["model_sha256"]
    old = tmp_path / "old.csv"
    old.write_text(f"{OLD_HEADER}\n{folder.resolve() / 'a.dcm'},0.4,0.6,covid,0.5,{sha},\n")
    assert first.exit_code == 0
    refused = cli("score", str(model), str(folder), "-o", str(old), "--resume")
    assert refused.exit_code == 1
    assert "has no sop_instance_uid and study_instance_uid columns" in refused.stderr
    assert "resume with --no-uids" in refused.stderr
    assert old.read_text().count("\n") == 2  # untouched
    resumed = cli("score", str(model), str(folder), "-o", str(old), "--resume", "--no-uids")
    assert resumed.exit_code == 3 and "1 already done" in resumed.stderr
    lines = old.read_text().splitlines()
    assert lines[0] == OLD_HEADER and len(lines) == 6 and ROOT not in old.read_text()


def test_resume_refuses_a_mismatched_uid_schema_both_ways_in_json_lines(folder, model, tmp_path,
                                                                       cli):
    old = tmp_path / "old.jsonl"
    row = {"path": str(folder.resolve() / "a.dcm"), "probabilities": {"normal": 0.4, "covid": 0.6},
           "label": "covid", "threshold": 0.5, "model_sha256": "0" * 64, "error": None}
    old.write_text(json.dumps(row) + "\n")
    refused = cli("score", str(model), str(folder), "-o", str(old), "--resume")
    assert refused.exit_code == 1 and "resume with --no-uids" in refused.stderr
    new = tmp_path / "new.jsonl"
    assert cli("score", str(model), str(folder / "a.dcm"), "-o", str(new)).exit_code == 0
    refused = cli("score", str(model), str(folder), "-o", str(new), "--resume", "--no-uids")
    assert refused.exit_code == 1 and "resume without --no-uids" in refused.stderr
    resumed = cli("score", str(model), str(folder), "-o", str(new), "--resume")
    assert resumed.exit_code == 3 and "1 already done" in resumed.stderr


def test_uid_cells_round_trip_spreadsheet_safe_and_count_checked():
    classes = ["normal", "covid"]
    record = ScoreRecord("p.dcm", {"normal": 0.25, "covid": 0.75}, "covid", 0.5, "ab",
                         sop_instance_uid="-1.2", study_instance_uid="1.2.3")
    cells = csv_cells(record, classes, uids=True)
    assert len(cells) == len(csv_columns(classes, uids=True)) == 9
    assert cells[-2:] == ["'-1.2", "1.2.3"]  # a cell is safe whatever reaches the record
    assert record_from_cells(cells, classes, uids=True) == record
    with pytest.raises(ValueError, match="expected 9 cells, got 7"):
        record_from_cells(csv_cells(record, classes), classes, uids=True)
    with pytest.raises(ValueError, match="expected 7 cells, got 9"):
        record_from_cells(cells, classes)
    assert record_from_columns(record_to_columns(record, classes, uids=True), classes,
                               uids=True) == record
    assert "sop_instance_uid" not in record.to_dict()
    assert record.to_dict(uids=True)["study_instance_uid"] == "1.2.3"


@pytest.mark.parametrize(("value", "expected"), [
    ("1.2.840.10008.1.2", "1.2.840.10008.1.2"), (b"1.2.3\0", "1.2.3"), ("1.2.3 ", "1.2.3"),
    ("1" * 64, "1" * 64), ("1" * 65, None), ("", None), ("=1+2", None), ("1.2\\3.4", None),
    (b"1.2.\xff", None), (None, None), (["1.2"], None)])
def test_valid_uid(value, expected):
    assert valid_uid(value) == expected


def test_ray_shards_without_the_uid_columns_are_refused_clearly(tmp_path):
    pytest.importorskip("pyarrow")
    from bamnet_core.score.resume import OutputError
    from bamnet_core.score.shards import iter_shard_records, write_shard

    classes = ["normal", "covid"]
    record = ScoreRecord("p.png", {"normal": 0.5, "covid": 0.5}, "covid", 0.5, "ab")
    columns = {k: [v] for k, v in record_to_columns(record, classes).items()}
    write_shard(tmp_path, "part-old-000000.parquet", columns, classes)
    assert list(iter_shard_records(tmp_path, classes)) == [record]
    with pytest.raises(OutputError, match="no sop_instance_uid") as caught:
        list(iter_shard_records(tmp_path, classes, uids=True))
    assert "--no-uids" in (caught.value.hint or "")


def test_the_continue_command_after_ctrl_c_keeps_no_uids(tmp_path):
    from bamnet_core.cli.score_command import continue_hint
    from bamnet_core.errors import Interrupted
    from bamnet_core.score.options import ScoreOptions

    with pytest.raises(Interrupted) as caught, continue_hint(
            Path("m.onnx"), ["imgs"], ScoreOptions(output=tmp_path / "s.csv", uids=False)):
        raise KeyboardInterrupt
    assert caught.value.command.endswith("--no-uids --resume")
