"""The ``dicom`` source: files found, labels, tags per Sample, the frontal filter, pseudonyms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dicom_fixtures import PHI_PATIENT_PREFIX, make_dataset, patient_tags, phantom, save

from bamnet_core.errors import DataError
from bamnet_core.testing import check_source
from bamnet_paper.sources.dicom_folder import DicomSource

KEY = "test-pseudonym-key-0123456789abcdef0123"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", KEY)


def write_folder(root: Path, *, patients: int = 3, images: int = 2, size: int = 48,
                 extras: bool = True) -> Path:
    """``root/<class>/<patient>/IM<n>`` DICOM files; the second image of each has no suffix."""
    for c, label in enumerate(("normal", "covid")):
        for p in range(patients):
            pid = 1000 * c + p
            for i in range(images):
                tags = patient_tags(pid, sex="FM"[p % 2], age=25 + 7 * p,
                                    view="PA" if i % 2 == 0 else "AP", study=i // 2)
                name = f"IM{i}.dcm" if i % 2 == 0 else f"IM{i}"
                save(make_dataset(phantom(pid * 10 + i + 50 * c, size), tags=tags),
                     root / label / f"pt{p}" / name)
        if extras:  # set aside by the frontal filter
            save(make_dataset(phantom(7, size), tags=patient_tags(900 + c, sex="F", age=40,
                                                                   view="LL")),
                 root / label / "lateral.dcm")
            save(make_dataset(phantom(8, size), tags=patient_tags(950 + c, sex="M", age=40,
                                                                   modality="CT")),
                 root / label / "ct.dcm")
    return root


def test_reads_recursively_with_and_without_suffix(tmp_path: Path) -> None:
    source = DicomSource(root=write_folder(tmp_path / "d"))
    samples = check_source(source)
    assert len(samples) == 12
    assert sum(not Path(s.path).suffix for s in samples) == 6
    assert {s.label for s in samples} == {"normal", "covid"}


def test_sample_fields_come_from_the_tags(tmp_path: Path) -> None:
    samples = DicomSource(root=write_folder(tmp_path / "d")).samples()
    first = next(s for s in samples if s.path.endswith("normal/pt1/IM0.dcm"))
    assert first.view == "PA" and first.modality == "DX"
    assert first.manufacturer == "Acme Radiography"
    assert dict(first.demographics) == {"age": 32, "sex": "M"}
    same_patient = [s for s in samples if "/normal/pt1/" in s.path]
    assert len({s.patient_id for s in same_patient}) == 1
    assert len({s.patient_id for s in samples}) == 6


def test_identifiers_are_keyed_pseudonyms(tmp_path: Path, monkeypatch) -> None:
    root = write_folder(tmp_path / "d")
    samples = DicomSource(root=root).samples()
    assert all(s.patient_id.startswith("p-") and s.study.startswith("s-") for s in samples)
    assert not any(PHI_PATIENT_PREFIX in repr(s) for s in samples)
    again = DicomSource(root=root).samples()
    assert [s.patient_id for s in again] == [s.patient_id for s in samples]
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", KEY + "-other")
    other = DicomSource(root=root).samples()
    assert not {s.patient_id for s in other} & {s.patient_id for s in samples}


def test_age_from_birth_and_study_dates(tmp_path: Path) -> None:
    tags = {**patient_tags(1, sex="F", age=0), "PatientAge": "", "PatientBirthDate": "19500601",
            "StudyDate": "20200601"}
    save(make_dataset(phantom(1, 32), tags=tags), tmp_path / "d" / "normal" / "a.dcm")
    (sample,) = DicomSource(root=tmp_path / "d").samples()
    assert sample.demographics["age"] == 70


def test_frontal_filter_counts_what_it_set_aside(tmp_path: Path) -> None:
    source = DicomSource(root=write_folder(tmp_path / "d"))
    source.samples()
    (note,) = source.notes
    assert note.startswith("dicom 'dicom': set aside 4 of 16")
    assert "set aside 4 of 16" in note and "2 view LATERAL" in note and "2 modality CT" in note
    everything = DicomSource(root=tmp_path / "d", keep="all")
    assert len(everything.samples()) == 16 and everything.notes == []


def test_labels_from_a_csv_keyed_by_patient_id(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "d", extras=False)
    table = tmp_path / "labels.csv"
    table.write_text("PatientID,label\n" + "".join(
        f"{PHI_PATIENT_PREFIX}{pid:04d},{'sick' if pid % 2 else 'well'}\n"
        for pid in (0, 1, 2, 1000, 1001, 1002)))
    samples = DicomSource(root=root, labels=table).samples()
    assert {s.label for s in samples} == {"sick", "well"} and len(samples) == 12


def test_labels_from_a_csv_keyed_by_file(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "d", extras=False)
    table = tmp_path / "labels.csv"
    table.write_text("file,label\nnormal/pt0/IM0.dcm,a\n./covid/pt2/IM1,b\n")
    source = DicomSource(root=root, labels=table)
    samples = source.samples()
    assert sorted(s.label for s in samples) == ["a", "b"]
    assert "10 no label" in source.notes[0]


def test_a_key_with_two_labels_is_refused(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "d", extras=False)
    table = tmp_path / "labels.csv"
    table.write_text("PatientID,label\nX,a\nX,b\n")
    with pytest.raises(DataError, match="line 3.*labelled both"):
        DicomSource(root=root, labels=table).samples()


def test_a_csv_without_a_key_column_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    table.write_text("name,label\nX,a\n")
    with pytest.raises(DataError, match="no key column"):
        DicomSource(root=write_folder(tmp_path / "d"), labels=table).samples()


def test_a_folder_with_nothing_kept_says_why(tmp_path: Path) -> None:
    save(make_dataset(phantom(1, 32), tags=patient_tags(1, sex="F", age=3, modality="CT")),
         tmp_path / "d" / "normal" / "a.dcm")
    with pytest.raises(DataError, match="no file kept of 1 .*modality CT") as err:
        DicomSource(root=tmp_path / "d").samples()
    assert "keep" in err.value.hint


def test_broken_and_non_dicom_files_are_skipped_or_counted(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "d", extras=False)
    (root / "normal" / "notes.txt").write_text("not an image")
    (root / "normal" / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 40)
    source = DicomSource(root=root)
    assert len(source.samples()) == 12
    assert "set aside 1 of 13 files (1 unreadable header)" in source.notes[0]


def test_data_inspect_detects_a_dicom_folder(cli, tmp_path: Path) -> None:
    root = write_folder(tmp_path / "d")
    result = cli("data", "inspect", str(root), "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["source"] == "dicom"
    assert PHI_PATIENT_PREFIX not in result.stdout
