"""``bamnet data inspect`` and the audit behind it: counts, failures, duplicates, confounding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
from fixtures_images import write_image_zoo, write_png

from bamnet_core.contract import Sample
from bamnet_core.data.audit import audit_samples
from bamnet_core.data.splits import split_samples


def xray(seed: int, size: int = 48) -> np.ndarray:
    """A distinct smooth random image (blurred noise), so dHashes differ between seeds."""
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (size, size), dtype=np.uint8), (0, 0), 3)


def build_dataset(root: Path) -> Path:
    """covid only from siteA, normal only from siteB; one exact copy across sources,
    one re-encoded near copy with a different patient id, and two broken files."""
    root.mkdir(parents=True, exist_ok=True)
    rows = ["path,label,patient_id,age"]
    for i in range(6):
        write_png(root / f"siteA__c{i}.png", xray(i))
        rows.append(f"siteA__c{i}.png,covid,a{i},{60 + i}")
    for i in range(6):
        write_png(root / f"siteB__n{i}.png", xray(100 + i))
        rows.append(f"siteB__n{i}.png,normal,b{i},{3 + i % 3}")
    shutil.copy(root / "siteA__c0.png", root / "siteB__copy.png")
    rows.append("siteB__copy.png,normal,b-copy,4")
    big = cv2.resize(xray(1), (64, 64), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(root / "siteA__c1-again.jpg"), big, [cv2.IMWRITE_JPEG_QUALITY, 90])
    rows.append("siteA__c1-again.jpg,covid,a1-second-id,61")
    (root / "siteA__empty.png").write_bytes(b"")
    (root / "siteA__text.png").write_text("hello")
    rows += ["siteA__empty.png,covid,a-x,", "siteA__text.png,covid,a-y,"]
    (root / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root / "manifest.csv"


def test_inspect_json_reports_every_check(cli, tmp_path: Path):
    manifest = build_dataset(tmp_path)
    result = cli("data", "inspect", str(manifest), "--json", "--val", "0.5")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["source"] == "manifest-csv" and report["images"] == 16
    assert report["by_source"] == {"siteA": {"covid": 9}, "siteB": {"normal": 7}}
    failed = {Path(f["path"]).name: f["kind"] for f in report["decode_failures"]}
    assert failed == {"siteA__empty.png": "empty", "siteA__text.png": "not-an-image"}
    dup = report["duplicates"]
    kinds = {(Path(p["a"]).name, Path(p["b"]).name): p["kind"] for p in dup["pairs"]}
    assert kinds[("siteA__c0.png", "siteB__copy.png")] == "exact"
    assert kinds[("siteA__c1-again.jpg", "siteA__c1.png")] == "near"
    assert dup["exact"] == 1 and dup["near"] == 1 and dup["across_sources"] == 1
    assert dup["different_patients"] == 2 and dup["conflicting_labels"] == 1
    conf = report["confounding"]["per_class"]
    assert conf["covid"]["single_class_share"] == 1.0
    assert conf["normal"]["single_class_sources"] == {"siteB": 7}
    ages = report["demographics"]["per_class"]
    assert ages["normal"]["pediatric_share"] == 1.0 and ages["covid"]["pediatric_share"] == 0.0
    text = " ".join(report["warnings"])
    for phrase in ("could not be decoded", "predicted from the source alone",
                   "age mismatch", "carry different labels", "duplicate pair"):
        assert phrase in text, phrase
    assert report["split"]["patients_in_several_splits"] == 0


def test_inspect_human_output_is_tables_and_findings(cli, tmp_path: Path):
    build_dataset(tmp_path)
    result = cli("data", "inspect", str(tmp_path))  # a folder holding manifest.csv
    assert result.exit_code == 0, result.stderr
    for part in ("images by source", "class vs source", "duplicates:", "decode failures",
                 "Findings", "siteA__empty.png"):
        assert part in result.stdout, part


def test_inspect_zoo_folder_never_crashes(cli, tmp_path: Path):
    cases = write_image_zoo(tmp_path / "zoo" / "mixed")
    result = cli("data", "inspect", str(tmp_path / "zoo"), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["source"] == "image-folder"
    failed = {Path(f["path"]).name for f in report["decode_failures"]}
    expected = {c.path.name for c in cases.values() if c.expect != "ok"}
    assert failed == expected


def test_inspect_forced_source_and_errors(cli, tmp_path: Path):
    (tmp_path / "a").mkdir()
    result = cli("data", "inspect", str(tmp_path / "a"))
    assert result.exit_code == 1 and "no dataset source can read this path" in result.stderr
    result = cli("data", "inspect", str(tmp_path / "missing"))
    assert result.exit_code == 1 and "no such file" in result.stderr
    manifest = build_dataset(tmp_path / "d")
    result = cli("data", "inspect", str(manifest), "--source", "manifest-csv",
                 "--option", "source_from=manifest", "--json", "--near", "-1")
    report = json.loads(result.stdout)
    assert report["by_source"] == {"manifest": {"covid": 9, "normal": 7}}
    assert report["duplicates"]["near"] == 0 and report["duplicates"]["exact"] == 1
    result = cli("data", "inspect", str(manifest), "--option", "colour=1")
    assert result.exit_code == 1
    assert "--option colour: unknown option for dataset source 'manifest-csv'" in result.stderr


def test_audit_flags_patients_and_duplicates_across_splits(tmp_path: Path):
    for i in range(8):
        write_png(tmp_path / f"{i}.png", xray(i))
    write_png(tmp_path / "dup.png", xray(0))
    samples = [Sample(path=str(tmp_path / f"{i}.png"), label="covid" if i % 2 else "normal",
                      patient_id=f"p{i // 2}", source="s") for i in range(8)]
    samples.append(Sample(path=str(tmp_path / "dup.png"), label="normal", patient_id="other",
                          source="s"))
    split = split_samples(samples, val=0.5, seed=0, by="image")
    report = audit_samples(samples, split=split)
    assert report["split"]["leaky"] and report["split"]["patients_in_several_splits"] >= 1
    assert any("leaky" in w for w in report["warnings"])
    pair = report["duplicates"]["pairs"][0]
    assert pair["kind"] == "exact" and "splits" in pair
