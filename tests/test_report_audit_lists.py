"""The report's "Label issues and outliers" section, on a run over a crafted dataset.

Three labels are flipped (stripes called normal, blobs called covid) and two foreign images
(a text page, a checkerboard) sit among the chest-X-ray stand-ins: the report must rank them
first, with thumbnails embedded as data URIs, and survive an image deleted after the run.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from audit_datasets import flipped_and_foreign_dataset
from bamnet_testing import run_cli, tiny_config_on
from fixtures_images import gradient, twelve_bit_ramp, write_dicom, write_png
from test_report_browser import PROBE, browse, chromium

from bamnet_core.report.audit_lists import LIMIT, label_issues_section
from bamnet_core.report.record import record_of
from bamnet_core.report.thumbnails import SIZE, thumbnail
from bamnet_core.runs import layout

ROW = re.compile(r"<tr><td>(\d+)</td><td>(.*?)</td><td><code title=\"([^\"]+)\">", re.S)


@pytest.fixture(scope="module")
def deep_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str], set[str]]:
    """A tiny run with ``[audit] label_issues`` and ``outliers`` on the crafted dataset."""
    base = tmp_path_factory.mktemp("deeprun")
    manifest, flipped, foreign = flipped_and_foreign_dataset(base / "data")
    config = base / "tiny.toml"
    config.write_text(tiny_config_on(manifest)
                      + "\n[audit]\nlabel_issues = true\noutliers = true\nfeature_size = 32\n")
    result = run_cli("run", str(config), "--output-dir", str(base / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["run_dir"]), flipped, foreign


def _tables(html: str) -> dict[str, list[tuple[str, str]]]:
    """``{"label issues": [(file name, image cell), ...], "outliers": [...]}`` in rank order."""
    section = re.search(r'<section id="label-issues">(.*?)</section>', html, re.S)
    assert section, f"no label-issues section in {layout.REPORT}"
    issues, outliers = section.group(1).split("<summary><b>Outliers</b></summary>")
    return {name: [(Path(path).name, cell) for _, cell, path in ROW.findall(part)]
            for name, part in (("label issues", issues), ("outliers", outliers))}


def _first(names: list[str], wanted: set[str], planted: set[str]) -> None:
    """Every ``wanted`` name is listed, and only planted images come before the last of them.

    (A flipped image is also unlike the class it claims, and a foreign one may look
    mislabelled: planted images may mix in either list, ordinary ones may not.)
    """
    assert wanted <= set(names), names
    last = max(names.index(n) for n in wanted)
    assert set(names[:last + 1]) <= planted, names


def test_report_ranks_flipped_and_foreign_images_first_with_thumbnails(deep_run):
    run_dir, flipped, foreign = deep_run
    html = (run_dir / layout.REPORT).read_text()
    tables = _tables(html)
    _first([n for n, _ in tables["label issues"]], flipped, flipped | foreign)
    _first([n for n, _ in tables["outliers"]], foreign, flipped | foreign)
    assert 0 < len(tables["label issues"]) <= LIMIT and len(tables["outliers"]) == LIMIT
    for _, cell in tables["label issues"] + tables["outliers"]:
        data = re.search(r'src="data:image/jpeg;base64,([^"]+)"', cell)
        assert data, cell
        thumb = cv2.imdecode(np.frombuffer(base64.b64decode(data.group(1)), np.uint8), 0)
        assert thumb is not None and max(thumb.shape) <= SIZE
    assert layout.AUDIT in html and "remove its row in the manifest" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    audit = json.loads((run_dir / layout.AUDIT).read_text())["deep"]
    assert len(audit["outliers"]["ranked"]) > LIMIT  # the page shows the top only


def test_an_image_deleted_after_the_run_shows_a_placeholder_on_rebuild(deep_run,
                                                                       tmp_path: Path):
    run_dir = Path(shutil.copytree(deep_run[0], tmp_path / deep_run[0].name))
    flipped = deep_run[1]
    gone = sorted(flipped)[0]
    audit = json.loads((run_dir / layout.AUDIT).read_text())
    path = Path(next(r["path"] for r in audit["deep"]["label_issues"]["ranked"]
                     if Path(r["path"]).name == gone))
    kept = path.read_bytes()
    path.unlink()
    try:
        result = run_cli("report", str(run_dir), "--json")
        assert result.exit_code == 0, result.stderr
        assert "label-issues" in json.loads(result.stdout)["sections"]
        tables = _tables((run_dir / layout.REPORT).read_text())
    finally:
        path.write_bytes(kept)
    for rows in tables.values():
        for name, cell in rows:
            if name == gone:
                assert "not readable" in cell and "file not found" in cell
                assert "<img" not in cell
            else:
                assert "data:image/jpeg;base64," in cell
    assert gone in [n for n, _ in tables["label issues"]]


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed")
def test_the_thumbnails_display_in_headless_chromium(deep_run, tmp_path: Path):
    run_dir, _, _ = deep_run
    probed = tmp_path / "probed.html"
    probed.write_text((run_dir / layout.REPORT).read_text().replace("</body>",
                                                                     PROBE + "</body>"))
    dom = browse(chromium(), probed, "--virtual-time-budget=10000", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', re.search(r"<body([^>]*)>",
                                                                dom.stdout).group(1)))
    shown = attrs["sections"].split(",")
    assert shown[:2] == ["verdict", "headline"]  # the verdict first, the details later
    assert shown[shown.index("data") + 1] == "label-issues"
    assert int(attrs["images"]) >= 2 * 4 and attrs["broken"] == "0"


def test_thumbnails_are_small_and_the_section_shows_the_top_only(tmp_path: Path):
    wide = write_png(tmp_path / "wide.png", gradient(200, 300))
    dicom = write_dicom(tmp_path / "x.dcm", twelve_bit_ramp())
    big, small = thumbnail(wide), thumbnail(dicom)
    assert (big.width, big.height) == (SIZE, 64) and big.uri.startswith("data:image/jpeg")
    assert (small.width, small.height) == (20, 16)  # never enlarged
    assert thumbnail(tmp_path / "nope.png").problem == "file not found"
    ranked = [{"path": str(wide), "label": "covid", "score": 2.0 - i / 100, "unusual": i < 3,
               "source": "s", "patient_id": f"p{i}"} for i in range(100)]
    record = record_of(tmp_path, audit={"deep": {"outliers": {
        "status": "done", "images": 400, "unusual": 3, "neighbours": 10, "cut": 4.0,
        "ranked": ranked}}})
    html = label_issues_section(record)
    assert len(ROW.findall(html)) == LIMIT and "<h3>Label issues</h3>" not in html
    assert "the first 100 of the ranked list" in html and "3 of 400 images" in html
    assert label_issues_section(record_of(tmp_path)) == ""
