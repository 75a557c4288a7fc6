"""``bamnet score --sr DIR``: one DICOM Structured Report per scored DICOM image.

Read back with pydicom and highdicom: the SR belongs to the image's study, copies its
patient module, references it, and says what the row says (class, probabilities,
decision at the threshold), with the algorithm, the run's verdict and the research-use
statement. A failed image keeps its error row and gets no SR.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from dicom_fixtures import PHI, make_dataset, patient_tags, phantom, save
from onnx_fixtures import write_tiny_model

from bamnet_core.score.sr import NO_VERDICT, RESEARCH_USE, SCHEME

VERDICT = {"reading": "some shortcut evidence", "sentence": "Read the headline number "
           "together with the lines marked some. (subgroups)",
           "lines": ["[some] subgroups: sex=M worse. the model fails a part of the population",
                     "[none] lungs masked: ROC AUC 1.00 → 0.53",
                     "Verdict: some shortcut evidence."]}
EXTRA = {"bamnet.run": "chest-run-7", "bamnet.version": "9.8.7",
         "bamnet.verdict": json.dumps(VERDICT),
         "bamnet.threshold_source": "chosen on validation (Youden's J)"}


def dicom_folder(root: Path, count: int = 4) -> Path:
    """``count`` DX images of two patients (PHI planted), a PNG, and a damaged DICOM."""
    for i in range(count):
        tags = patient_tags(i % 2, sex="F", age=40 + i, study=i % 2)
        if i % 2:
            # what a DX header holds: the image library (TID 1601) describes this one
            tags.update(PatientOrientation=["L", "F"], ImagerPixelSpacing=[0.2, 0.2])
        save(make_dataset(phantom(i, 16), tags=tags), root / f"im{i}.dcm")
    cv2.imwrite(str(root / "plain.png"), np.full((12, 12), 90, np.uint8))
    damaged = make_dataset(phantom(99, 16), tags=patient_tags(9, sex="M", age=50))
    damaged.PixelData = damaged.PixelData[:40]  # pixel data cut short
    save(damaged, root / "damaged.dcm")
    return root


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path / "m.onnx", size=8, extra=EXTRA)


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {Path(r["path"]).name: r for r in csv.DictReader(fh)}


def read_srs(folder: Path) -> dict[str, object]:
    """SOP Instance UID of the referenced image -> the SR read back with highdicom."""
    import highdicom as hd

    found = {}
    for path in sorted(folder.glob("*.dcm")):
        sr = hd.sr.srread(path)
        ref = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
        found[ref.ReferencedSOPSequence[0].ReferencedSOPInstanceUID] = sr
    return found


def group_of(sr: object) -> object:
    groups = sr.content.get_image_measurement_groups()
    assert len(groups) == 1
    return groups[0]


def texts(sr: object) -> dict[str, str]:
    """The TEXT items of the report's Qualitative Evaluations container, by meaning."""
    root = sr.ContentSequence
    container = next(item for item in root
                     if item.ConceptNameCodeSequence[0].CodeMeaning == "Qualitative Evaluations")
    return {item.ConceptNameCodeSequence[0].CodeMeaning: item.TextValue
            for item in container.ContentSequence}


def test_each_scored_dicom_image_gets_one_sr_that_agrees_with_its_row(tmp_path, model, cli):
    folder = dicom_folder(tmp_path / "in")
    out, srs = tmp_path / "rows.csv", tmp_path / "sr"
    result = cli("score", str(model), str(folder), "-o", str(out), "--sr", str(srs))
    assert result.exit_code == 3, result.stderr  # the damaged file is an error row
    assert "4 structured reports in" in result.stderr
    rows = read_rows(out)
    assert rows["damaged.dcm"]["error"] and rows["plain.png"]["error"] == ""
    by_uid = read_srs(srs)
    scored = {r["sop_instance_uid"]: r for name, r in rows.items()
              if name.startswith("im")}
    assert set(by_uid) == set(scored)  # no SR for the PNG nor for the damaged image
    for uid, sr in by_uid.items():
        row = scored[uid]
        source = pydicom.dcmread(folder / Path(row["path"]).name)
        assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
        assert sr.StudyInstanceUID == source.StudyInstanceUID
        assert sr.SeriesInstanceUID != source.SeriesInstanceUID
        assert sr.SOPInstanceUID != source.SOPInstanceUID
        assert (sr.PatientID, str(sr.PatientName), sr.PatientSex) == \
            (source.PatientID, str(source.PatientName), source.PatientSex)
        assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
        library = [item for item in sr.ContentSequence
                   if item.ConceptNameCodeSequence[0].CodeMeaning == "Image Library"]
        assert len(library) == ("PatientOrientation" in source)  # else left out, not failed
        assert sr.ContentQualification == "RESEARCH"
        assert "research use only" in sr.SeriesDescription
        group = group_of(sr)
        assert [s.referenced_sop_instance_uid for s in group.source_images] == [uid]
        probs = {m.name.meaning: m.value for m in group.get_measurements()}
        assert probs == pytest.approx({"Probability of normal": float(row["prob_normal"]),
                                       "Probability of covid": float(row["prob_covid"])},
                                      abs=1e-6)
        assert group.finding_type.value == row["label"]
        assert group.finding_type.scheme_designator == SCHEME
        [decision] = group.get_qualitative_evaluations()
        assert decision.name.value == "covid"
        assert decision.value.meaning == ("Present" if row["label"] == "covid" else "Absent")
        algorithm = {item.name.meaning: item.value for item in group[0].ContentSequence
                     if item.name.meaning.startswith("Algorithm")}
        assert algorithm["Algorithm Name"] == "chest-run-7"
        assert algorithm["Algorithm Version"] == "9.8.7"
        parameters = [item.value for item in group[0].ContentSequence
                      if item.name.meaning == "Algorithm Parameters"]
        assert f"onnx_sha256={row['model_sha256']}" in parameters
        assert f"threshold={float(row['threshold'])!r}" in parameters
        assert "threshold_chosen=chosen on validation (Youden's J)" in parameters
        notes = texts(sr)
        assert notes["Intended use"] == RESEARCH_USE
        assert notes["Verdict of the model's training run"].startswith(
            "Verdict of the training run: some shortcut evidence.")
        assert "sex=M worse" in notes["Verdict of the model's training run"]
        assert "1.00 → 0.53" in notes["Verdict of the model's training run"]  # UTF-8 kept


def test_a_resumed_run_rewrites_the_same_srs_and_never_duplicates(tmp_path, model, cli):
    folder = dicom_folder(tmp_path / "in")
    out, srs = tmp_path / "rows.csv", tmp_path / "sr"
    cli("score", str(model), str(folder), "-o", str(out), "--sr", str(srs))
    first = sorted(p.name for p in srs.glob("*.dcm"))
    lines = out.read_text(encoding="utf-8").splitlines()
    out.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")  # as if killed after 2 rows
    result = cli("score", str(model), str(folder), "-o", str(out), "--sr", str(srs),
                 "--resume")
    assert "2 already done" in result.stderr
    assert sorted(p.name for p in srs.glob("*.dcm")) == first
    assert len(read_rows(out)) == 6


def test_a_model_without_a_verdict_says_so_and_a_new_threshold_says_where_it_came_from(
        tmp_path, cli):
    model = write_tiny_model(tmp_path / "plain.onnx", size=8)
    folder = dicom_folder(tmp_path / "in", count=1)
    srs = tmp_path / "sr"
    cli("score", str(model), str(folder / "im0.dcm"), "--sr", str(srs), "--threshold", "0.25")
    [sr] = read_srs(srs).values()
    assert texts(sr)["Verdict of the model's training run"] == NO_VERDICT
    parameters = [item.value for item in group_of(sr)[0].ContentSequence
                  if item.name.meaning == "Algorithm Parameters"]
    assert "threshold=0.25" in parameters
    assert any(p.startswith("threshold_chosen=given when scoring (--threshold), replacing "
                            "the model's 0.5") for p in parameters)


def test_scoring_with_sr_never_prints_a_patient_name_or_id(tmp_path, model, cli):
    folder = dicom_folder(tmp_path / "in")
    result = cli("score", str(model), str(folder), "--sr", str(tmp_path / "sr"))
    said = result.stdout + result.stderr
    for value in (PHI["PatientName"], "MRNQZ", PHI["PatientBirthDate"]):
        assert value not in said


def test_sr_with_the_ray_engine_is_refused_naming_the_option(tmp_path, model, cli):
    result = cli("score", str(model), str(tmp_path), "-o", str(tmp_path / "o.csv"),
                 "--engine", "ray", "--sr", str(tmp_path / "sr"))
    assert result.exit_code == 2
    assert "--sr needs --engine local" in result.stderr


@pytest.mark.parametrize("make", [lambda p: p.write_text("x"), os.mkfifo,
                                  lambda p: p.symlink_to(p)], ids=["file", "fifo", "loop"])
def test_an_sr_folder_that_is_a_file_is_one_error_line(tmp_path, model, cli, make):
    folder = dicom_folder(tmp_path / "in", count=1)
    make(tmp_path / "taken")
    result = cli("score", str(model), str(folder), "--sr", str(tmp_path / "taken"))
    assert result.exit_code == 1 and result.stderr.startswith("Error: ")
    assert f"SR folder {tmp_path / 'taken'}: something that is not a folder is in its place" \
        in result.stderr, result.stderr


def test_an_image_highdicom_cannot_report_on_keeps_its_row_and_the_note_names_no_patient(
        tmp_path, model, cli):
    folder = tmp_path / "in"
    ds = make_dataset(phantom(5, 16), tags=patient_tags(5, sex="F", age=33))
    del ds.StudyInstanceUID  # an SR belongs to a study: none can be written
    save(ds, folder / "nostudy.dcm")
    out = tmp_path / "rows.csv"
    result = cli("score", str(model), str(folder), "-o", str(out), "--sr", str(tmp_path / "sr"))
    assert result.exit_code == 0, result.stderr
    [row] = read_rows(out).values()
    assert row["error"] == "" and row["label"]
    assert list((tmp_path / "sr").iterdir()) == []
    assert "no SR: its header has no StudyInstanceUID" in result.stderr
    assert PHI["PatientName"] not in result.stderr and "MRNQZ" not in result.stderr
