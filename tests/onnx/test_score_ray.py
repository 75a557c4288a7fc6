"""``bamnet score --engine ray`` on a real local Ray instance (2 CPUs), started here.

One instance serves the module (Ray takes seconds to start) and is shut down
at the end. The Ray rows must equal local ``bamnet score``'s exactly, error
rows included; a driver killed with SIGKILL resumes with no duplicate and no
lost row.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from bamnet_testing import kill_parked, parked_bamnet
from dicom_fixtures import make_dataset, phantom, save
from onnx_fixtures import write_tiny_model

ray = pytest.importorskip("ray")
REPO = Path(__file__).parents[2]
STUDY = "1.2.826.0.1.3680043.8.498.4242.7"


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance with 2 CPUs; its address lets subprocess drivers join it."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def png(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 255, (12, 12), np.uint8))
    return path


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def mixed(root: Path) -> Path:
    for i in range(20):
        png(root / f"sub{i % 2}" / f"{i}.png", i)
    save(make_dataset(phantom(7, 16), tags={"StudyInstanceUID": STUDY}), root / "IM0001")
    bad_uid = make_dataset(phantom(8, 16))
    with warnings.catch_warnings():  # pydicom warns about the invalid UID planted here
        warnings.simplefilter("ignore")
        bad_uid.SOPInstanceUID = "=1+2"
        save(bad_uid, root / "IM0002")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (root / "empty.jpg").write_bytes(b"")
    os.mkfifo(root / "pipe.png")
    png(root.parent / "outside" / "o.png", 99)
    os.symlink(root.parent / "outside", root / "linked")
    os.symlink(root, root / "sub0" / "loop")
    return root


def test_ray_rows_equal_local_rows_exactly(local_ray, tmp_path, cli):
    model = write_tiny_model(tmp_path / "m.onnx")
    images = mixed(tmp_path / "images")
    local, distributed = tmp_path / "local.csv", tmp_path / "ray.csv"
    # --follow-links: both engines follow the link out to outside/ alike, and neither the loop
    assert cli("score", str(model), str(images), "-o", str(local),
               "--follow-links").exit_code == 3
    result = cli("score", str(model), str(images), "-o", str(distributed), "--engine", "ray",
                 "--json", "--batch-size", "4", "--follow-links")
    assert result.exit_code == 3, result.stderr
    summary = json.loads(result.stdout)
    assert summary["scored"] == 23 and summary["failed"] == 3
    assert summary["noted"] == 1 and summary["notes"][0]["path"].endswith("IM0002")
    assert summary["provider"] == "CPUExecutionProvider"
    by_path = {r["path"]: r for r in csv_rows(local)}
    ray_rows = csv_rows(distributed)
    assert len(ray_rows) == len(by_path) == 26
    for row in ray_rows:
        assert row == by_path[row["path"]]  # same text: probabilities, labels, errors, UIDs
    assert by_path[str(images / "IM0001")]["study_instance_uid"] == STUDY
    assert by_path[str(images / "IM0002")]["sop_instance_uid"] == ""
    assert by_path[str(images / "pipe.png")]["error"] == "not a regular file (a named pipe)"
    assert len(list((tmp_path / "ray.csv.shards").glob("part-*.parquet"))) >= 6

    # a pyarrow filesystem URI (here file://, in production s3:// or gs://) scores the same
    uri_out = tmp_path / "uri.jsonl"
    result = cli("score", str(model), f"file://{images / 'sub1'}", "-o", str(uri_out),
                 "--engine", "ray", "--json")
    assert result.exit_code == 0, result.stderr
    for line in uri_out.read_text().splitlines():
        row = json.loads(line)
        local_row = by_path[row["path"].removeprefix("file://")]
        assert [f"{row['probabilities'][c]:.9g}" for c in ("normal", "covid")] == \
            [local_row["prob_normal"], local_row["prob_covid"]]

    # a second run with other options on the same output is refused, not mixed
    again = cli("score", str(model), str(images), "-o", str(distributed), "--engine", "ray",
                "--resume", "--threshold", "0.7")
    assert again.exit_code == 1 and "threshold 0.5, not 0.7" in again.stderr


def test_killed_ray_driver_resumes_without_duplicates_or_losses(local_ray, tmp_path):
    model = write_tiny_model(tmp_path / "m.onnx")
    images = [png(tmp_path / "images" / f"{i:04d}.png", i) for i in range(400)]
    out = tmp_path / "s.csv"
    shards = tmp_path / "s.csv.shards"
    cmd = [sys.executable, "-m", "bamnet_core", "score", str(model), str(tmp_path / "images"),
           "-o", str(out), "--engine", "ray", "--address", local_ray, "--batch-size", "1",
           "--json"]
    # the driver parks after writing its 10th shard, so it is killed mid-run
    marker = tmp_path / "parked"
    proc = subprocess.Popen(parked_bamnet("bamnet_core.score.ray_engine:write_shard", 10,
                                          marker, *cmd[3:]),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_parked(proc, marker)
    assert len(list(shards.glob("part-*.parquet"))) == 10
    assert not out.exists()  # the merged output only appears at the end

    resumed = subprocess.run([*cmd, "--resume"], cwd=REPO, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] >= 10 and summary["skipped"] + summary["scored"] == len(images)
    paths = [r["path"] for r in csv_rows(out)]
    assert len(paths) == len(set(paths)) == len(images)
    assert set(paths) == {str(p) for p in images}
