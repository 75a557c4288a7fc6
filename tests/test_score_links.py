"""A scored folder is walked without leaving it: folder links out, into /proc or back in."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import cv2
import numpy as np
from onnx_fixtures import write_tiny_model


def _folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    """``scans/`` (two images, links to /proc, to itself and to ``sibling/``) and
    ``sibling/`` (one image); the model."""
    scans, sibling = tmp_path / "scans", tmp_path / "sibling"
    scans.mkdir()
    sibling.mkdir()
    for folder, names in ((scans, ["a.png", "b.png"]), (sibling, ["c.png"])):
        for name in names:
            cv2.imwrite(str(folder / name), np.full((16, 16), 90, np.uint8))
    (scans / "proc").symlink_to("/proc")
    (scans / "again").symlink_to(scans)
    (scans / "next").symlink_to(sibling)
    return scans, sibling, write_tiny_model(tmp_path / "m.onnx")


def _scored(out: Path) -> list[str]:
    with out.open(newline="") as fh:
        return sorted(os.path.basename(row["path"]) for row in csv.DictReader(fh))


def test_links_that_leave_the_folder_are_not_followed_and_are_named(tmp_path, cli):
    scans, sibling, model = _folder(tmp_path)
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(scans), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert _scored(out) == ["a.png", "b.png"]
    lines = [line for line in result.stderr.splitlines() if line.startswith("Notice:")]
    assert len(lines) == 3, result.stderr
    text = " ".join(lines)
    assert "leads into /proc" in text
    assert "leads back into a folder it is in" in text
    assert f"leads out of {scans.resolve()}" in text and "--follow-links" in text


def test_follow_links_scores_the_sibling_but_never_proc_nor_a_loop(tmp_path, cli):
    scans, _sibling, model = _folder(tmp_path)
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(scans), "-o", str(out), "--follow-links")
    assert result.exit_code == 0, result.stderr
    assert _scored(out) == ["a.png", "b.png", "c.png"]
    assert "leads into /proc" in result.stderr
    assert "leads back into a folder it is in" in result.stderr
    assert "leads out of" not in result.stderr


def test_the_ray_engine_walks_folders_the_same_way(tmp_path):
    from bamnet_core.score.ray_engine import discover

    scans, _sibling, _model = _folder(tmp_path)
    events = []
    found = sorted(os.path.basename(p) for p in discover([scans], progress=events.append))
    assert found == ["a.png", "b.png"]
    assert [e.stage for e in events] == ["notice"] * 3
    followed = sorted(os.path.basename(p) for p in discover([scans], follow_links=True))
    assert followed == ["a.png", "b.png", "c.png"]
