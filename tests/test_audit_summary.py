"""The audit's summary never says there is no problem beside a problem it lists."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
from fixtures_images import write_png
from test_data_inspect import xray


def one_size_per_class(root: Path, per_class: int = 6) -> Path:
    """covid stored at 48 px, normal at 64 px, one source, one image per patient: a single
    property (the image size) tells the classes apart, on too few images for the
    cross-validated baseline to learn it."""
    root.mkdir(parents=True, exist_ok=True)
    rows = ["path,label,patient_id"]
    for i in range(per_class):
        write_png(root / f"c{i}.png", xray(i, size=48))
        rows.append(f"c{i}.png,covid,c{i}")
        write_png(root / f"n{i}.png", cv2.resize(xray(100 + i, size=48), (64, 64)))
        rows.append(f"n{i}.png,normal,n{i}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root / "manifest.csv"


def test_inspect_never_says_no_problems_beside_a_property_that_separates_the_classes(
        cli, tmp_path: Path):
    manifest = one_size_per_class(tmp_path / "data")
    shown = cli("data", "inspect", str(manifest), "--json")
    assert shown.exit_code == 0, shown.stderr
    baseline = json.loads(shown.stdout)["shortcut_baseline"]
    assert baseline["top_properties"][0]["auc"] == 1.0  # listed in the audit's table
    result = cli("data", "inspect", str(manifest))
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "No problems found." not in text
    assert "single image properties separate the classes on their own" in text
    assert "1.000" in text
