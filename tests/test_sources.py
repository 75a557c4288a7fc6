"""Built-in dataset sources on layouts built in code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures_images import write_png

from bamnet_core.errors import DataError
from bamnet_core.testing import check_source
from bamnet_paper.sources.cohen_covid import CohenCovidSource, finding_matches
from bamnet_paper.sources.covid_radiography import CovidRadiographySource
from bamnet_paper.sources.image_folder import ImageFolderSource
from bamnet_paper.sources.kermany import KermanyCXRSource, patient_of
from bamnet_paper.sources.manifest_csv import ManifestCSVSource


def img(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    return write_png(path, rng.integers(0, 256, (16, 16), dtype=np.uint8))


def test_image_folder_labels_from_folders(tmp_path: Path):
    img(tmp_path / "COVID" / "a.png")
    img(tmp_path / "Normal" / "sub" / "b.jpg")
    (tmp_path / "Normal" / "readme.txt").write_text("x")
    src = ImageFolderSource(root=str(tmp_path), label_map={"COVID": "covid"}, source="mine",
                            patient_pattern=r"^(\w)")
    samples = check_source(src)
    assert [(s.label, Path(s.path).name, s.patient_id, s.source) for s in samples] == [
        ("covid", "a.png", "mine-a", "mine"), ("normal", "b.jpg", "mine-b", "mine")]
    assert ImageFolderSource.detect(tmp_path) == {"root": str(tmp_path)}


def test_image_folder_empty_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataError, match="no images"):
        ImageFolderSource(root=str(tmp_path)).samples()


def write_manifest(folder: Path, text: str, name: str = "manifest.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_manifest_relative_paths_demographics_and_source_prefix(tmp_path: Path):
    img(tmp_path / "imgs" / "siteA__1.png")
    img(tmp_path / "imgs" / "siteB__2.png", 1)
    csv = write_manifest(tmp_path, "path,label,patient_id,view,age\n"
                         "imgs/siteA__1.png,covid,p1,AP Supine,65\n"
                         "imgs/siteB__2.png,normal,,unspecified,4 y\n")
    write_manifest(tmp_path, "path,sex\nimgs/siteA__1.png,F\n", "manifest_extra.csv")
    a, b = check_source(ManifestCSVSource(path=str(csv)))
    assert a.path == str(tmp_path / "imgs" / "siteA__1.png")
    assert (a.source, a.patient_id, a.view, dict(a.demographics)) == (
        "siteA", "p1", "AP supine", {"age": 65, "sex": "F"})
    assert (b.source, b.view, b.demographics["age"]) == ("siteB", None, 4)
    assert b.patient_id == "image:imgs/siteB__2.png"
    fixed = ManifestCSVSource(path=str(csv), source_from="manifest", extra=[]).samples()
    assert {s.source for s in fixed} == {"manifest"} and "sex" not in fixed[0].demographics


def test_manifest_source_column_and_source_repo(tmp_path: Path):
    csv = write_manifest(tmp_path, "path,label,source\na.png,covid,hospital-1\n")
    assert ManifestCSVSource(path=str(csv)).samples()[0].source == "hospital-1"
    csv2 = write_manifest(tmp_path, "path,label,source_repo\na.png,covid,org/repo (fork)\n",
                          "m2.csv")
    assert ManifestCSVSource(path=str(csv2)).samples()[0].source == "org/repo"


@pytest.mark.parametrize("text, match", [
    ("path,patient_id\na.png,1\n", r"missing column\(s\) \['label'\]"),
    ("path,label\na.png,\n", r"row 2: column 'label' is empty"),
    ("path,label\n", "no rows"),
])
def test_manifest_errors_name_csv_row_and_column(tmp_path: Path, text: str, match: str):
    csv = write_manifest(tmp_path, text)
    with pytest.raises(DataError, match=match) as info:
        ManifestCSVSource(path=str(csv)).samples()
    assert str(csv) in info.value.message


def test_manifest_bad_options(tmp_path: Path):
    with pytest.raises(DataError, match="source_from"):
        ManifestCSVSource(path="x.csv", source_from="guess")
    csv = write_manifest(tmp_path, "path,label\na.png,covid\n")
    with pytest.raises(DataError, match="no column 'site'"):
        ManifestCSVSource(path=str(csv), source_from="column:site").samples()
    with pytest.raises(DataError, match="file not found"):
        ManifestCSVSource(path=str(tmp_path / "absent.csv")).samples()


def test_cohen_covid_filters_and_patients(tmp_path: Path):
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"):
        img(tmp_path / "images" / name)
    (tmp_path / "metadata.csv").write_text(
        "patientid,offset,sex,age,finding,view,modality,folder,filename\n"
        "1,0,M,65,Pneumonia/Viral/COVID-19,PA,X-ray,images,a.jpg\n"
        "1,3,M,65,Pneumonia/Viral/COVID-19,AP Supine,X-ray,images,b.jpg\n"
        "2,,F,,No Finding,PA,X-ray,images,c.jpg\n"
        "3,,F,40,Pneumonia/Bacterial,PA,X-ray,images,d.jpg\n"
        "4,,F,40,COVID-19,L,X-ray,images,e.jpg\n"
        "5,,F,40,COVID-19,Axial,CT,volumes,f.nii\n", encoding="utf-8")
    assert CohenCovidSource.detect(tmp_path) == {"root": str(tmp_path)}
    src = CohenCovidSource(root=str(tmp_path))
    samples = check_source(src)
    assert [(Path(s.path).name, s.label, s.patient_id, s.view) for s in samples] == [
        ("a.jpg", "covid", "ieee8023-1", "PA"), ("b.jpg", "covid", "ieee8023-1", "AP supine"),
        ("c.jpg", "normal", "ieee8023-2", "PA")]
    assert samples[0].demographics == {"age": 65, "sex": "M"}
    assert "1 by modality, 1 by view, 1 by finding" in src.notes[-1]
    assert finding_matches("COVID-19, ARDS", ["COVID-19, ARDS"])
    assert not finding_matches("Pneumonia/Bacterial", ["COVID-19"])


def test_covid_radiography_layout_with_csv_metadata_and_skipped_xlsx(tmp_path: Path):
    root = tmp_path / "COVID-19_Radiography_Dataset"
    img(root / "COVID" / "images" / "COVID-1.png")
    img(root / "COVID" / "images" / "COVID-2.png", 1)
    img(root / "COVID" / "masks" / "COVID-1.png", 2)
    img(root / "Normal" / "images" / "Normal-1.png", 3)
    img(root / "Lung_Opacity" / "images" / "Lung_Opacity-1.png", 4)
    (root / "COVID.metadata.csv").write_text(
        "FILE NAME,FORMAT,SIZE,URL\nCOVID-1,PNG,256*256,"
        "https://github.com/ieee8023/covid-chestxray-dataset\n"
        "COVID-2,PNG,256*256,https://sirm.org/category/senza-categoria/covid-19/\n")
    (root / "Normal.metadata.xlsx").write_bytes(b"PK\x03\x04not really")
    assert CovidRadiographySource.detect(root) == {"root": str(root)}
    src = CovidRadiographySource(root=str(root))
    samples = check_source(src)
    assert [(Path(s.path).name, s.label, s.source) for s in samples] == [
        ("COVID-1.png", "covid", "ieee8023"), ("COVID-2.png", "covid", "sirm"),
        ("Normal-1.png", "normal", "covid-radiography-db")]
    assert any("skipped Normal.metadata.xlsx" in n for n in src.notes)


def test_kermany_layout_patients_and_subtypes(tmp_path: Path):
    base = tmp_path / "chest_xray"
    img(base / "train" / "NORMAL" / "IM-0115-0001.jpeg")
    img(base / "test" / "NORMAL" / "NORMAL2-IM-0587-0001-0002.jpeg", 1)
    img(base / "train" / "PNEUMONIA" / "person1_bacteria_1.jpeg", 2)
    img(base / "val" / "PNEUMONIA" / "person1_virus_7.jpeg", 3)
    assert KermanyCXRSource.detect(tmp_path) == {"root": str(tmp_path)}
    samples = check_source(KermanyCXRSource(root=str(tmp_path), subtypes=True))
    got = sorted((s.label, s.patient_id) for s in samples)
    assert got == [("bacterial-pneumonia", "kermany-person1"), ("normal", "kermany-IM-0115"),
                   ("normal", "kermany-NORMAL2-IM-0587"), ("viral-pneumonia", "kermany-person1")]
    assert all(s.demographics["age_group"] == "pediatric" for s in samples)
    assert patient_of("odd.jpeg") is None
    with pytest.raises(DataError, match="NORMAL"):
        KermanyCXRSource(root=str(tmp_path / "chest_xray" / "train")).samples()


def test_sources_are_registered(cli):
    import json

    result = cli("plugins", "--all", "--json")
    names = {n for p in json.loads(result.stdout)
             for n in p["components"].get("dataset_source", [])}
    assert {"image-folder", "manifest-csv", "cohen-covid", "covid-radiography-db",
            "kermany-cxr", "synthetic-cxr"} <= names


def test_a_folder_with_a_manifest_is_read_as_the_manifest_even_beside_a_dataset(tmp_path: Path):
    from bamnet_core.data.sources import detect_source
    from bamnet_core.plugins import load_plugins

    img(tmp_path / "chest_xray" / "train" / "NORMAL" / "IM-0001-0001.jpeg")
    img(tmp_path / "a.png")
    write_manifest(tmp_path, "path,label\na.png,covid\n")
    found = detect_source(tmp_path, load_plugins().registry)
    assert found == {"source": "manifest-csv", "path": str(tmp_path / "manifest.csv")}
