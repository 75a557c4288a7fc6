"""Kill ``bamnet score`` with SIGKILL mid-run and resume: no duplicate, no lost row."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from bamnet_testing import kill_parked, parked_bamnet

REPO = Path(__file__).parents[2]


def make_images(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        sub = folder / f"part{i % 3}"
        sub.mkdir(exist_ok=True)
        paths.append(sub / f"img{i:05d}.png")
        cv2.imwrite(str(paths[-1]), rng.integers(0, 255, (20, 20), dtype=np.uint8))
    return paths


def csv_paths(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["path"] for row in csv.DictReader(fh)]


def test_sigkill_then_resume_loses_and_duplicates_nothing(exported_model, tmp_path):
    images = make_images(tmp_path / "images", 1500)
    out = tmp_path / "scores.csv"
    cmd = [sys.executable, "-m", "bamnet_core", "score", str(exported_model),
           str(tmp_path / "images"), "-o", str(out), "--batch-size", "1", "--json"]
    # the child parks after writing its 40th row (batches of 1), so it is killed mid-run
    marker = tmp_path / "parked"
    proc = subprocess.Popen(parked_bamnet("bamnet_core.score.output:RecordWriter.write", 40,
                                          marker, *cmd[3:]),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_parked(proc, marker)
    before = csv_paths(out)
    assert len(before) == 40 < len(images)

    # a torn last line, as a kill in the middle of a write would leave it
    with open(out, "ab") as fh:
        fh.write(f"{images[-1]},0.12".encode())
    resumed = subprocess.run([*cmd[:-3], "--batch-size", "64", "--json", "--resume"],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] == len(before)
    assert summary["scored"] == len(images) - len(before)
    after = csv_paths(out)
    assert len(after) == len(set(after)) == len(images)
    assert set(after) == {str(p) for p in images}
    assert after[: len(before)] == before
    with open(out, newline="", encoding="utf-8") as fh:
        assert all(row["label"] and not row["error"] for row in csv.DictReader(fh))


def test_resume_of_a_finished_run_adds_nothing(exported_model, tmp_path, cli):
    make_images(tmp_path / "images", 5)
    out = tmp_path / "s.jsonl"
    args = ("score", str(exported_model), str(tmp_path / "images"), "-o", str(out), "--json")
    assert cli(*args).exit_code == 0
    first = out.read_text()
    result = cli(*args, "--resume")
    assert result.exit_code == 0 and json.loads(result.stdout)["skipped"] == 5
    assert out.read_text() == first


def test_existing_output_is_not_overwritten_without_resume(exported_model, tmp_path, cli):
    make_images(tmp_path / "images", 2)
    out = tmp_path / "s.csv"
    out.write_text("precious\n")
    result = cli("score", str(exported_model), str(tmp_path / "images"), "-o", str(out))
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert out.read_text() == "precious\n"


def test_resume_refuses_rows_from_another_model(exported_model, tmp_path, cli):
    make_images(tmp_path / "images", 2)
    out = tmp_path / "s.csv"
    first = cli("score", str(exported_model), str(tmp_path / "images"), "-o", str(out))
    assert first.exit_code == 0
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["model_sha256"] = "0" * 64  # a row another model wrote
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = cli("score", str(exported_model), str(tmp_path / "images"), "-o", str(out),
                 "--resume")
    assert result.exit_code == 1 and "another model" in result.stderr
    assert os.path.getsize(out) > 0
