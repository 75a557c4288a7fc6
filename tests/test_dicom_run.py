"""A run on a DICOM folder made in code: split by the tags' patients, subgroups, no PHI out.

Every identifying tag of every file holds a planted, distinctive value
(:data:`dicom_fixtures.PHI`, patient ids ``MRNQZ....``). The run has no
manifest: the split groups by the patient id in the tags and the subgroups
come from the view, sex and age tags. Then the exported model, its embedded
model card and every other file of the run folder are searched for the
planted values, and the model for the data's paths and for images.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dicom_fixtures import (
    PHI_PATIENT_PREFIX,
    make_dataset,
    patient_tags,
    phantom,
    planted_values,
    save,
)

from bamnet_core.runs import layout

CONFIG = """\
[run]
name = "dicom"
seed = 3

[data]
source = "dicom"
root = "{root}"
classes = ["normal", "covid"]
positive = "covid"

[preprocess]
size = 32
channels = 1

[split]
val = 0.25
test = 0.25

[backbone]
name = "small-cnn"
filters = [4, 8]
dense = 8

[evaluate]
bootstrap = 50

[export]
onnx = true

[train]
epochs = 2
batch_size = 8

[report]
redact = true
"""
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"DICM")


def write_dicom_folder(root: Path) -> None:
    """24 patients (12 a class), 2 images each (PA, AP), ages 30 and 70; a lateral set aside."""
    for c, label in enumerate(("normal", "covid")):
        for p in range(12):
            pid = 100 * c + p
            for i, view in enumerate(("PA", "AP")):
                tags = patient_tags(pid, sex="FM"[p % 2], age=(30, 70)[(p // 2) % 2],
                                    view=view)
                save(make_dataset(phantom(pid * 10 + i, 48), tags=tags),
                     root / label / f"{pid:03d}" / f"{i:02d}")
        save(make_dataset(phantom(5, 48), tags=patient_tags(90 + c, sex="F", age=40,
                                                              view="LATERAL")),
             root / label / "side.dcm")


@pytest.fixture(scope="module")
def dicom_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(run folder, data root) of one run with export on a DICOM folder made in code."""
    import os

    from bamnet_testing import run_cli

    base = tmp_path_factory.mktemp("dicom-run")
    root = base / "pacs-export"
    write_dicom_folder(root)
    config = base / "dicom.toml"
    config.write_text(CONFIG.format(root=root.as_posix()), encoding="utf-8")
    saved = os.environ.get("BAMNET_PSEUDONYM_KEY")
    os.environ["BAMNET_PSEUDONYM_KEY"] = "dicom-run-test-key-0123456789abcdef"
    try:
        result = run_cli("run", str(config), "--output-dir", str(base / "runs"), "--json")
    finally:
        if saved is None:
            os.environ.pop("BAMNET_PSEUDONYM_KEY", None)
        else:
            os.environ["BAMNET_PSEUDONYM_KEY"] = saved
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["run_dir"]), root


def test_split_groups_by_the_patient_ids_in_the_tags(dicom_run) -> None:
    run, _ = dicom_run
    split = json.loads((run / layout.SPLIT_JSON).read_text())
    where: dict[str, set[str]] = {}
    for name in ("train", "val", "test"):
        for sample in split["assignment"][name]:
            where.setdefault(sample["patient_id"], set()).add(name)
    assert len(where) == 24  # one per patient in the tags, not one per file
    assert all(len(splits) == 1 for splits in where.values())
    assert all(p.startswith("p-") for p in where)


def test_subgroups_by_view_sex_and_age_from_the_tags(dicom_run) -> None:
    run, _ = dicom_run
    groups = json.loads((run / layout.METRICS).read_text())["subgroups"]["by"]
    assert {g["group"] for g in groups["view"]} == {"PA", "AP"}
    assert {g["group"] for g in groups["sex"]} == {"F", "M"}
    assert {g["group"] for g in groups["age_band"]} <= {"18-39", "60-79"}
    assert groups["age_band"]


def test_the_audit_counts_what_the_frontal_filter_set_aside(dicom_run) -> None:
    run, _ = dicom_run
    audit = (run / layout.AUDIT).read_text()
    assert "set aside 2 of 50 files (2 view LATERAL)" in audit


def test_report_redact_in_the_config_writes_the_shareable_report_during_the_run(
        dicom_run) -> None:
    run, _ = dicom_run
    meta = json.loads((run / layout.META).read_text())
    assert meta["report"]["shareable"] == layout.SHAREABLE
    assert (run / layout.SHAREABLE / layout.REPORT).is_file()


def test_no_planted_value_in_any_run_file(dicom_run) -> None:
    run, _ = dicom_run
    planted = [v.encode() for v in planted_values()]
    leaks = {str(f.relative_to(run)): [v.decode() for v in planted if v in f.read_bytes()]
             for f in run.rglob("*") if f.is_file()}
    assert {f: v for f, v in leaks.items() if v} == {}


def test_the_exported_model_holds_no_phi_path_or_image(dicom_run) -> None:
    import onnx

    run, root = dicom_run
    data = (run / layout.ONNX).read_bytes()
    for value in [*planted_values(), str(root), root.name, PHI_PATIENT_PREFIX]:
        assert value.encode() not in data, value
    model = onnx.load(str(run / layout.ONNX))
    metadata = {p.key: p.value for p in model.metadata_props}
    assert "bamnet.model_card" in metadata
    text = json.dumps(metadata) + model.doc_string + model.graph.doc_string
    split = json.loads((run / layout.SPLIT_JSON).read_text())["assignment"]
    pseudonyms = {s["patient_id"] for name in split for s in split[name]}
    assert len(pseudonyms) == 24 and not any(p.encode() in data for p in pseudonyms)
    assert not any(magic.decode("latin-1") in text for magic in IMAGE_MAGIC)
    assert "base64" not in text and "/" + root.name not in text


def test_the_redacted_report_holds_no_phi_path_or_image(dicom_run, cli, monkeypatch) -> None:
    run, root = dicom_run
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", "dicom-run-test-key-0123456789abcdef")
    result = cli("report", str(run), "--redact", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    shared = run / layout.SHAREABLE
    assert Path(payload["report"]) == shared / layout.REPORT and payload["redacted"]
    split = json.loads((run / layout.SPLIT_JSON).read_text())["assignment"]
    run_ids = {s["patient_id"] for name in split for s in split[name]}
    forbidden = [*planted_values(), str(root), root.name, str(run.parent), *run_ids]
    written = [f for f in shared.rglob("*") if f.is_file()]
    assert {f.name for f in written} >= {layout.REPORT, layout.MODEL_CARD}
    for f in written:
        data = f.read_bytes()
        assert [v for v in forbidden if v.encode() in data] == [], f
    html = (shared / layout.REPORT).read_text()
    assert "data:image/jpeg" not in html  # no thumbnails, no overlays
    assert "left out of this shareable report" in html
    assert not any("gradcam" in f.name for f in written)
    assert "24 patients" in html  # the data is still described


def test_redacting_again_without_images_removes_earlier_overlays(dicom_run, cli,
                                                                 monkeypatch) -> None:
    run, _ = dicom_run
    # the run's ids are pseudonyms: without its key, redaction is refused, never re-keyed
    monkeypatch.setenv("XDG_CONFIG_HOME", str(run.parent / "no-key-here"))
    refused = cli("report", str(run), "--redact")
    assert refused.exit_code == 1 and "BAMNET_PSEUDONYM_KEY" in refused.stderr
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", "dicom-run-test-key-0123456789abcdef")
    assert cli("report", str(run), "--redact", "--images").exit_code == 0
    plots = run / layout.SHAREABLE / layout.PLOTS
    assert any("gradcam" in p.name for p in plots.iterdir())
    assert cli("report", str(run), "--redact").exit_code == 0
    assert not any("gradcam" in p.name for p in plots.iterdir())
    assert "data:image" not in (run / layout.SHAREABLE / layout.REPORT).read_text().split(
        "Grad-CAM")[-1].split("</section>")[0]


def write_external_folder(root: Path) -> None:
    """12 patients the run never saw (6 a class), one image each, PHI planted in every tag."""
    for c, label in enumerate(("normal", "covid")):
        for p in range(6):
            pid = 500 + 100 * c + p
            save(make_dataset(phantom(pid * 7 + 3, 48),
                              tags=patient_tags(pid, sex="FM"[p % 2], age=50)),
                 root / label / f"{pid:03d}.dcm")


def named_copy(run: Path, folder: Path, name: str) -> Path:
    """The run copied to ``folder/name``: a run folder named by its user."""
    import shutil

    copy = folder / name
    shutil.copytree(run, copy)
    return copy


@pytest.mark.parametrize("given", ["relative", "absolute"])
def test_evaluate_on_a_named_folder_then_redact_names_no_folder_and_no_phi(
        dicom_run, cli, tmp_path, monkeypatch, given) -> None:
    run = named_copy(dicom_run[0], tmp_path / "runs", "StMarys-covid-study")
    write_external_folder(tmp_path / "data" / "ext" / "StMarys_Hospital")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", "dicom-run-test-key-0123456789abcdef")
    data = "data/ext/StMarys_Hospital"
    result = cli("evaluate", str(run), "--data",
                 data if given == "relative" else str(tmp_path / data))
    assert result.exit_code == 0, result.stderr
    planted = [v.encode() for v in planted_values()]
    external = [f for f in (run / layout.EXTERNAL).rglob("*") if f.is_file()]
    assert external and {str(f): [v for v in planted if v in f.read_bytes()]
                         for f in external} == {str(f): [] for f in external}
    assert cli("report", str(run), "--redact").exit_code == 0
    forbidden = [*planted_values(), "StMarys", "data/ext", str(tmp_path), "pacs-export"]
    shared = [f for f in (run / layout.SHAREABLE).rglob("*") if f.is_file()]
    leaks = {f.name: [v for v in forbidden if v.encode() in f.read_bytes()] for f in shared}
    assert {f: v for f, v in leaks.items() if v} == {}
    html = (run / layout.SHAREABLE / layout.REPORT).read_text()
    assert "external#1" in html and "12 images" in html  # still described, by its alias


def test_compare_redacted_names_no_run_no_folder_and_no_phi(dicom_run, cli, tmp_path,
                                                             monkeypatch) -> None:
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", "dicom-run-test-key-0123456789abcdef")
    first = named_copy(dicom_run[0], tmp_path, "StMarys-covid-study")
    second = named_copy(dicom_run[0], tmp_path, "StMarys-covid-rerun")
    result = cli("compare", str(first), str(second), "--redact", "--json")
    assert result.exit_code == 0, result.stderr
    page = Path(json.loads(result.stdout)["compare"])
    assert page == first / layout.SHAREABLE / layout.COMPARE
    split = json.loads((first / layout.SPLIT_JSON).read_text())["assignment"]
    run_ids = {s["patient_id"] for name in split for s in split[name]}
    text = page.read_text()
    forbidden = [*planted_values(), "StMarys", str(tmp_path), "pacs-export", *run_ids]
    assert [v for v in forbidden if v in text] == []
    assert "run A" in text and "run B" in text
