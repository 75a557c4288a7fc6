"""Local scoring loses nothing, duplicates nothing, hangs on nothing: one test per problem found.

These use a tiny hand-built ONNX model (tests/onnx_fixtures.py), so they need
no training and run in a fraction of a second each.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_fixtures import write_tiny_model


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path / "m.onnx")


def png(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), rng.integers(0, 255, (12, 12), dtype=np.uint8))
    return path


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_fifo_dev_zero_and_sparse_file_are_error_rows_without_reading(model, tmp_path, cli):
    folder = tmp_path / "in"
    png(folder / "good.png")
    os.mkfifo(folder / "x.png")
    os.symlink("/dev/zero", folder / "zero.png")
    with open(folder / "sparse.png", "wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GB, no blocks on disk
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(folder), "-o", str(out))
    assert result.exit_code == 3, result.stderr
    errors = {Path(r["path"]).name: r["error"] for r in rows(out)}
    assert errors["good.png"] == ""
    assert errors["x.png"] == "not a regular file (a named pipe)"
    assert errors["zero"] == "not a regular file (a character device)"
    assert errors["sparse.png"].startswith("too large: 2,147,483,648 bytes")


def test_size_limit_is_configurable(model, tmp_path, cli):
    (tmp_path / "in").mkdir()
    noise = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "in" / "a.png"), noise)  # about 4 kB
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(tmp_path / "in"), "-o", str(out),
                 "--max-file-mb", "0.001")
    assert result.exit_code == 3
    assert rows(out)[0]["error"].startswith("too large")


def test_with_follow_links_symlinked_subfolders_are_followed_once_and_loops_stop(
        model, tmp_path, cli):
    # without --follow-links a link that leaves the folder is not followed (test_score_links)
    folder, elsewhere = tmp_path / "in", tmp_path / "elsewhere"
    png(folder / "a.png")
    png(elsewhere / "deep" / "b.png", 1)
    os.symlink(elsewhere, folder / "linked")
    os.symlink(folder, folder / "loop")  # points back up: must not recurse forever
    os.symlink(elsewhere, folder / "linked-again")  # same folder twice: scored once
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(folder), "-o", str(out), "--follow-links")
    assert result.exit_code == 0, result.stderr
    assert [r["path"] for r in rows(out)] == [str(folder / "a.png"),
                                              str(elsewhere / "deep" / "b.png")]


def test_a_path_given_twice_is_scored_once(model, tmp_path, cli, monkeypatch):
    a = png(tmp_path / "in" / "a.png")
    os.symlink(a, tmp_path / "in" / "alias.png")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(a), "in/a.png", str(tmp_path / "in"),
                 str(tmp_path / "in" / ".." / "in" / "a.png"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert [r["path"] for r in rows(out)] == [str(a)]


def test_resume_from_another_directory_or_a_symlinked_path_skips_everything(
        model, tmp_path, cli, monkeypatch):
    for i in range(3):
        png(tmp_path / "data" / f"{i}.png", i)
    os.symlink(tmp_path / "data", tmp_path / "via-link")
    out = tmp_path / "s.csv"
    monkeypatch.chdir(tmp_path)
    assert cli("score", str(model), "data", "-o", str(out)).exit_code == 0
    first = out.read_text()
    monkeypatch.chdir(tmp_path / "data")
    result = cli("score", str(model), ".", "-o", str(out), "--resume", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["skipped"] == 3
    result = cli("score", str(model), str(tmp_path / "via-link"), "-o", str(out), "--resume",
                 "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["skipped"] == 3
    assert out.read_text() == first


def test_resume_refuses_another_threshold_or_class_list(model, tmp_path, cli):
    png(tmp_path / "in" / "a.png")
    png(tmp_path / "in" / "b.png", 1)
    out = tmp_path / "s.csv"
    assert cli("score", str(model), str(tmp_path / "in" / "a.png"), "-o", str(out)).exit_code == 0
    before = out.read_bytes()
    result = cli("score", str(model), str(tmp_path / "in"), "-o", str(out), "--resume",
                 "--threshold", "0.9")
    assert result.exit_code == 1 and "threshold 0.5, not 0.9" in result.stderr
    assert "Hint:" in result.stderr and "--threshold 0.5" in result.stderr
    three = write_tiny_model(tmp_path / "three.onnx", outputs=3,
                             classes=["normal", "covid", "other"])
    result = cli("score", str(three), str(tmp_path / "in"), "-o", str(out), "--resume")
    assert result.exit_code == 1 and "another class list" in result.stderr
    assert out.read_bytes() == before


def test_torn_row_with_a_newline_in_its_path_is_repaired(model, tmp_path, cli):
    odd = [png(tmp_path / "in" / "new\nline.png"), png(tmp_path / "in" / 'quo"te,=x.png', 1),
           png(tmp_path / "in" / "plain.png", 2)]
    out = tmp_path / "s.csv"
    assert cli("score", str(model), str(odd[0]), str(odd[1]), "-o", str(out)).exit_code == 0
    whole = out.read_bytes()
    # a kill in the middle of the row of plain.png... after the newline inside its quoted path
    out.write_bytes(whole + f'"{tmp_path}/in/torn\n'.encode())
    for _ in range(2):  # the repair holds: every later resume works too
        result = cli("score", str(model), str(tmp_path / "in"), "-o", str(out), "--resume",
                     "--json")
        assert result.exit_code == 0, result.stderr
    assert [r["path"] for r in rows(out)] == [str(odd[0]), str(odd[1]), str(odd[2])]


def test_thresholds_must_be_finite_and_within_0_1(model, tmp_path, cli):
    png(tmp_path / "a.png")
    for bad in ("nan", "5", "-1", "inf"):
        out = tmp_path / f"{bad}.csv"
        result = cli("score", str(model), str(tmp_path / "a.png"), "-o", str(out),
                     "--threshold", bad)
        assert result.exit_code in (1, 2) and "Error" in result.stderr, bad
        assert not out.exists()


def test_jsonl_stays_valid_json_when_the_model_outputs_nan(tmp_path, cli):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(write_tiny_model(tmp_path / "m.onnx")))
    w = model.graph.initializer[0]
    w.CopyFrom(numpy_helper.from_array(np.full(numpy_helper.to_array(w).shape, np.nan,
                                               np.float32), "w"))
    onnx.save(model, str(tmp_path / "nan.onnx"))
    png(tmp_path / "in" / "a.png")
    out = tmp_path / "s.jsonl"
    result = cli("score", str(tmp_path / "nan.onnx"), str(tmp_path / "in"), "-o", str(out))
    assert result.exit_code == 3
    text = out.read_text()
    row = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))
    assert row["probabilities"] is None and "non-finite" in row["error"]


def test_finding_nothing_leaves_no_file_and_the_next_run_works(model, tmp_path, cli):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(tmp_path / "empty"), "-o", str(out))
    assert result.exit_code == 1 and "no images found" in result.stderr
    assert not out.exists()
    png(tmp_path / "empty" / "a.png")
    assert cli("score", str(model), str(tmp_path / "empty"), "-o", str(out)).exit_code == 0
    assert len(rows(out)) == 1


def test_bad_model_metadata_is_refused_before_the_output_is_created(tmp_path, cli):
    bad = write_tiny_model(tmp_path / "m.onnx", spec_size=16)  # graph takes 8x8
    png(tmp_path / "a.png")
    out = tmp_path / "s.csv"
    result = cli("score", str(bad), str(tmp_path / "a.png"), "-o", str(out))
    assert result.exit_code == 1 and "its preprocessing makes 16x16" in result.stderr
    assert not out.exists()


def test_spreadsheet_formulas_are_neutralised_and_read_back():
    from bamnet_core.score.rows import csv_cells, record_from_cells
    from bamnet_core.score.scorer import ScoreRecord

    record = ScoreRecord("=HYPERLINK(1)", None, None, 0.5, "ab", "-1+2 @x")
    cells = csv_cells(record, ["normal", "covid"])
    assert cells[0] == "'=HYPERLINK(1)" and cells[-1] == "'-1+2 @x"
    assert record_from_cells(cells, ["normal", "covid"]) == record
    plain = ScoreRecord("/x/'a.png", {"normal": 0.25, "covid": 0.75}, "covid", 0.5, "ab")
    assert csv_cells(plain, ["normal", "covid"])[0] == "/x/'a.png"
    assert record_from_cells(csv_cells(plain, ["normal", "covid"]), ["normal", "covid"]) == plain
