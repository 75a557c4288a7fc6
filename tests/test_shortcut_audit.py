"""The audit's second half: image properties, the shortcut baseline, label issues, outliers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from audit_datasets import flipped_dataset, foreign_dataset, leaky_dataset
from fixtures_images import gradient, twelve_bit_ramp, write_dicom, write_png

from bamnet_core.data.fingerprints import fingerprint_file
from bamnet_core.data.label_issues import label_issues
from bamnet_core.data.outliers import find_outliers
from bamnet_core.data.property_cache import cached_properties, entry_path


def test_properties_describe_colour_depth_frames_and_dicom_tags(tmp_path: Path):
    g8 = gradient(40, 40)
    gray_rgb = fingerprint_file(write_png(tmp_path / "grey-rgb.png", np.dstack([g8] * 3)))
    tinted = np.dstack([g8, g8, np.clip(g8.astype(int) + 80, 0, 255).astype(np.uint8)])
    colour = fingerprint_file(write_png(tmp_path / "tinted.png", tinted))
    deep = fingerprint_file(write_png(tmp_path / "deep.png", gradient(40, 40, np.uint16)))
    framed = np.zeros((40, 40), np.uint8)
    framed[6:-6, 6:-6] = 150
    frame = fingerprint_file(write_png(tmp_path / "framed.png", framed))
    dicom = fingerprint_file(write_dicom(tmp_path / "x.dcm", twelve_bit_ramp()))
    assert gray_rgb.properties["colour_mode"] == "rgb-gray"
    assert colour.properties["colour_mode"] == "colour"
    assert colour.properties["colour_difference"] > 0.2
    assert deep.properties["bit_depth"] == 16 and gray_rgb.properties["bit_depth"] == 8
    assert deep.properties["format"] == "png"
    assert frame.properties["frame_width"] == 0.15  # 6 of 40 rows/cols on every side
    assert frame.properties["corner_max"] == 0.0
    assert dicom.properties["format"] == "dicom" and dicom.properties["modality"] == "CR"
    assert dicom.properties["bit_depth"] == 12 and dicom.properties["width"] == 20
    assert dicom.properties["photometric"] == "MONOCHROME2"


def test_properties_are_cached_and_a_corrupt_entry_is_rebuilt(tmp_path: Path):
    path = write_png(tmp_path / "a.png", gradient(30, 30))
    first = fingerprint_file(path)
    assert cached_properties(first.sha256) == first.properties
    entry_path(first.sha256).write_text("{not json", encoding="utf-8")
    assert cached_properties(first.sha256) is None
    again = fingerprint_file(path)
    assert again.properties == first.properties
    assert cached_properties(first.sha256) == first.properties


def test_baseline_finds_a_leaking_frame_and_passes_a_clean_dataset(cli, tmp_path: Path):
    result = cli("data", "inspect", str(leaky_dataset(tmp_path / "leak")), "--json")
    assert result.exit_code == 0, result.stderr
    base = json.loads(result.stdout)["shortcut_baseline"]
    assert base["status"] == "done" and base["grouped_by"] == "patient_id"
    assert base["auc"] >= 0.95 and base["flagged"]
    low, high = base["interval"]
    assert low <= base["auc"] <= high
    # the frame separates the classes perfectly, and so does all it changes (size, mean)
    assert base["top_properties"][0]["auc"] >= 0.95
    assert any("reads only outside the lungs" in w for w in json.loads(result.stdout)["warnings"])

    clean = cli("data", "inspect", str(leaky_dataset(tmp_path / "clean", leak=False)), "--json")
    base = json.loads(clean.stdout)["shortcut_baseline"]
    assert base["auc"] < 0.75 and not base["flagged"]
    human = cli("data", "inspect", str(tmp_path / "leak"))
    assert "shortcut baseline" in human.stdout and "strongest properties" in human.stdout


def test_baseline_threshold_is_configurable_and_can_be_turned_off(cli, tmp_path: Path):
    manifest = leaky_dataset(tmp_path / "leak")
    off = json.loads(cli("data", "inspect", str(manifest), "--json", "--shortcut", "0").stdout)
    assert "shortcut_baseline" not in off
    strict = json.loads(cli("data", "inspect", str(manifest), "--json",
                            "--shortcut", "1").stdout)["shortcut_baseline"]
    assert strict["threshold"] == 1.0 and strict["flagged"] == (strict["auc"] >= 1.0)


def test_deep_inspect_ranks_flipped_labels_first_and_draws_thumbnails(cli, tmp_path: Path):
    manifest = flipped_dataset(tmp_path / "flip")
    result = cli("data", "inspect", str(manifest), "--deep", "--json", "--feature-size", "32",
                 "--thumbnails", str(tmp_path / "sheets"))
    assert result.exit_code == 0, result.stderr
    deep = json.loads(result.stdout)["deep"]
    ranked = [Path(r["path"]).name for r in deep["label_issues"]["ranked"]]
    assert set(ranked[:3]) == {"img003.png", "img010.png", "img017.png"}, ranked
    assert deep["label_issues"]["ranked"][0]["suggested"] != deep["label_issues"]["ranked"][0][
        "label"]
    sheet = Path(deep["thumbnails"]["label_issues"])
    assert sheet.is_file() and sheet.read_bytes()[:4] == b"\x89PNG"


def test_deep_inspect_finds_foreign_images_as_outliers(cli, tmp_path: Path):
    manifest, foreign = foreign_dataset(tmp_path / "foreign")
    result = cli("data", "inspect", str(manifest), "--deep", "--json", "--feature-size", "32")
    assert result.exit_code == 0, result.stderr
    outliers = json.loads(result.stdout)["deep"]["outliers"]
    top = outliers["ranked"][:2]
    assert {Path(r["path"]).name for r in top} == foreign
    assert all(r["unusual"] for r in top) and outliers["unusual"] >= 2
    human = cli("data", "inspect", str(manifest), "--deep", "--feature-size", "32")
    assert "most unusual in their class" in human.stdout and "foreign-" in human.stdout


def test_label_issues_and_outliers_on_crafted_features():
    from bamnet_core.contract import Sample

    rng = np.random.default_rng(0)
    samples, rows = [], []
    for i in range(80):
        label = i % 2
        rows.append(rng.normal(3.0 * label, 1.0, 8))
        given = 1 - label if i in (4, 9) else label
        samples.append(Sample(path=f"/x/{i}.png", label=["a", "b"][given], patient_id=f"p{i}",
                              source="s"))
    features = np.stack(rows)
    issues = label_issues(samples, features)
    assert {Path(r["path"]).stem for r in issues["ranked"][:2]} == {"4", "9"}
    features[20] = 40.0  # far from everything
    outliers = find_outliers(samples, features)
    assert outliers["ranked"][0]["path"] == "/x/20.png" and outliers["ranked"][0]["unusual"]


def test_audit_option_mistakes_are_one_error_line(cli, tmp_path: Path):
    manifest = leaky_dataset(tmp_path / "d", n=4)
    for args, text in ((["--thumbnails", str(tmp_path / "t")], "--thumbnails needs --deep"),
                       (["--shortcut", "0.3"], "--shortcut must be 0"),
                       (["--shortcut", "nan"], "--shortcut must be 0"),
                       (["--deep", "--feature-size", "4"], "--feature-size must be between"),
                       (["--deep", "--features", "nope"], "nope")):
        result = cli("data", "inspect", str(manifest), *args)
        assert result.exit_code in (1, 2), args
        assert text in result.stderr, (args, result.stderr)
        assert "unexpected" not in result.stderr
