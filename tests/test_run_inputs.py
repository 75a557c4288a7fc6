"""What a run reads: the paper presets' three sources, ``--data PATH``, and missing inputs."""

from __future__ import annotations

import csv
import json
import os
import tomllib
from pathlib import Path

import pytest
from audit_datasets import blob, leaky_dataset, stripes
from fixtures_images import write_png

from bamnet_core.runs import layout


@pytest.fixture
def nothing_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty BAMNET_DATA, an empty Keras cache and no network."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("BAMNET_DATA", str(data))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("BAMNET_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    return data


def test_missing_data_and_weights_are_one_error_naming_every_fix(cli, nothing_here: Path):
    result = cli("run", "paper-config")
    assert result.exit_code == 1 and result.stderr.count("Error:") == 1
    error, hint = result.stderr.strip().splitlines()[:2]
    assert "4 input(s) this run needs are missing" in error
    for folder in ("covid-chestxray-dataset", "COVID-19_Radiography_Dataset", "chest_xray"):
        assert str(nothing_here / folder) in error
    assert "VGG16 ImageNet weights" in error
    for name in ("cohen-covid", "covid-radiography-db", "kermany-cxr"):
        assert f"bamnet data fetch {name} --dest {nothing_here}" in hint
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in hint and "--data PATH" in hint
    assert "Traceback" not in result.stderr and not (nothing_here.parent / "runs").exists()


def test_only_what_is_missing_is_named(cli, nothing_here: Path):
    (nothing_here / "chest_xray").mkdir()
    result = cli("run", "paper-config-fixed", "--set", "backbone.weights=none")
    assert result.exit_code == 1
    assert "2 input(s) this run needs are missing" in result.stderr
    assert "kermany-cxr" not in result.stderr and "VGG16" not in result.stderr


def test_data_points_a_preset_at_a_manifest(cli, nothing_here: Path, tmp_path: Path):
    manifest = leaky_dataset(tmp_path / "mine", n=12)
    result = cli("run", "quickstart", "--data", str(manifest), "--until", "audit",
                 "--set", "generator.enabled=false", "-o", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    data = tomllib.loads((run_dir / layout.CONFIG).read_text())["data"]
    assert data["source"] == "manifest-csv" and Path(data["path"]) == manifest
    assert data["classes"] == ["normal", "covid"] and "patients_per_class" not in data
    assert (run_dir / layout.SPLITS_CSV).read_text().count("\n") == 25  # header + 24 images


def test_data_that_is_not_there_or_not_data_is_one_error(cli, tmp_path: Path):
    gone = cli("run", "quickstart", "--data", str(tmp_path / "nope.csv"))
    assert gone.exit_code == 1 and "--data" in gone.stderr and "not found" in gone.stderr
    (tmp_path / "notes.txt").write_text("hello")
    odd = cli("run", "quickstart", "--data", str(tmp_path / "notes.txt"))
    assert odd.exit_code == 1 and "no dataset source recognises" in odd.stderr
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    loop = cli("run", "quickstart", "--data", str(tmp_path / "loop-a"))
    assert loop.exit_code == 1 and "broken or looping symbolic link" in loop.stderr
    os.mkfifo(tmp_path / "pipe.csv")  # must not be opened: that would hang
    pipe = cli("run", "quickstart", "--data", str(tmp_path / "pipe.csv"))
    assert pipe.exit_code == 1 and "not a regular file or folder" in pipe.stderr
    refused = cli("run", "--resume", str(tmp_path), "--data", str(tmp_path))
    assert refused.exit_code == 2 and "--data" in refused.stderr


def _png(path: Path, pixels) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_png(path, pixels)


def _paper_datasets(data: Path) -> None:
    """Tiny copies of the three public datasets' layouts, as `bamnet data fetch` unpacks them."""
    cohen = data / "covid-chestxray-dataset"
    rows = ["patientid,offset,sex,age,finding,view,modality,folder,filename"]
    for i in range(8):
        _png(cohen / "images" / f"c{i}.png", stripes(i))
        rows.append(f"{i},0,M,60,Pneumonia/Viral/COVID-19,PA,X-ray,images,c{i}.png")
    (cohen / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    kaggle = data / "COVID-19_Radiography_Dataset"
    meta = ["FILE NAME,FORMAT,SIZE,URL"]
    for i in range(6):
        _png(kaggle / "COVID" / "images" / f"COVID-{i}.png", stripes(100 + i))
        _png(kaggle / "Normal" / "images" / f"Normal-{i}.png", blob(200 + i))
        meta.append(f"COVID-{i},PNG,48*48,https://example.org/hospital")
    # the Kaggle database holds Cohen images: the audit must see the pair across sources
    _png(kaggle / "COVID" / "images" / "COVID-6.png", stripes(0))
    meta.append("COVID-6,PNG,48*48,https://github.com/ieee8023/covid-chestxray-dataset")
    (kaggle / "COVID.metadata.csv").write_text("\n".join(meta) + "\n", encoding="utf-8")
    for i in range(8):
        _png(data / "chest_xray" / "train" / "NORMAL" / f"IM-{i:04d}-0001.jpeg", blob(i))
        _png(data / "chest_xray" / "train" / "PNEUMONIA" / f"person{i}_virus_1.jpeg",
                  blob(50 + i))


def test_paper_config_reads_the_three_sources_from_bamnet_data(cli, nothing_here: Path,
                                                               tmp_path: Path):
    _paper_datasets(nothing_here)
    result = cli("run", "paper-config", "--set", "backbone.weights=none", "--set",
                 "generator.enabled=false", "--set", "preprocess.size=32", "--until", "audit",
                 "-o", str(tmp_path / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    with open(run_dir / layout.SPLITS_CSV, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8 + 7 + 6 + 8  # no pneumonia: kermany-cxr keeps its normals only
    ids = {r["patient_id"].split(":")[0] for r in rows}  # each source's id prefixes its patients
    assert {"cohen-covid", "covid-radiography-db", "kermany-cxr"} <= ids
    audit = json.loads((run_dir / layout.AUDIT).read_text())
    assert audit["duplicates"]["across_sources"] >= 1
    assert any("pediatric normal vs adult covid" in w for w in audit["warnings"])
