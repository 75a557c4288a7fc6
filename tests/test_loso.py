"""Leave-one-source-out: ``split.hold_out_source`` and ``bamnet loso CONFIG``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from audit_datasets import blob, stripes
from bamnet_testing import tiny_config_on
from fixtures_images import write_png

from bamnet_core.contract.sample import Sample
from bamnet_core.data.splits import split_holding_out
from bamnet_core.errors import DataError
from bamnet_core.report import run_verdict
from bamnet_core.runs import layout

# three hospitals: "mixed" has both classes, "kids" only normals, "covid-ward" only covid
SITES = {"mixed": ("normal", "covid"), "kids": ("normal",), "covid-ward": ("covid",)}


def three_sources(root: Path, per_site: int = 12) -> Path:
    """A manifest of three sources; covid images are stripes, normals blobs."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["path,label,patient_id,source"]
    i = 0
    for site, labels in SITES.items():
        for k in range(per_site):
            label = labels[k % len(labels)]
            write_png(root / f"{site}-{k}.png", stripes(i) if label == "covid" else blob(i))
            lines.append(f"{site}-{k}.png,{label},{site}-p{k // 2},{site}")
            i += 1
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "manifest.csv"


@pytest.fixture
def loso_config(tmp_path: Path) -> Path:
    manifest = three_sources(tmp_path / "data")
    text = tiny_config_on(manifest)
    path = tmp_path / "loso.toml"
    path.write_text(text.replace("epochs = 2", "epochs = 1"), encoding="utf-8")
    return path


def _sample(path: str, label: str, patient: str, source: str) -> Sample:
    return Sample(path=path, label=label, patient_id=patient, source=source)


def test_holding_out_a_source_tests_on_it_and_trains_on_none_of_its_patients():
    samples = [_sample(f"a{i}", "normal" if i % 2 else "covid", f"pa{i}", "a") for i in range(10)]
    samples += [_sample(f"b{i}", "covid", f"pb{i}", "b") for i in range(6)]
    samples.append(_sample("a-of-b", "covid", "pb0", "a"))  # patient pb0 is also in source a
    split = split_holding_out(samples, "b", val=0.3, seed=1)
    assert {s.path for s in split.assignment["test"]} == {f"b{i}" for i in range(6)}
    trained = split.assignment["train"] + split.assignment["val"]
    assert all(s.source == "a" for s in trained) and "a-of-b" not in {s.path for s in trained}
    assert split.assignment["val"] and "1 image(s) of its patients" in split.notes[-1]
    with pytest.raises(DataError, match="no such source") as err:
        split_holding_out(samples, "c", val=0.3)
    assert "a, b" in err.value.hint


def test_loso_retrains_per_source_and_tests_on_the_held_out_one(cli, loso_config: Path,
                                                               tmp_path: Path):
    result = cli("loso", str(loso_config), "-o", str(tmp_path / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["held_out"] == sorted(SITES) and summary["skipped"] == []
    rows = {r["source"]: r for r in summary["sources"]}
    for site, labels in SITES.items():
        run_dir = Path(report["runs"][site])
        with open(run_dir / layout.SPLITS_CSV, newline="", encoding="utf-8") as fh:
            split = list(csv.DictReader(fh))
        assert {r["source"] for r in split if r["split"] == "test"} == {site}
        assert site not in {r["source"] for r in split if r["split"] != "test"}
        assert rows[site]["images"] == 12 and rows[site]["classes"] == sorted(labels)
        if len(labels) == 1:  # one class held out: no ROC-AUC, one of the rates
            assert rows[site]["roc_auc"] is None
            rate = "specificity" if labels == ("normal",) else "sensitivity"
            assert rows[site][rate] == rows[site]["accuracy"]
    folder = Path(report["folder"])
    with open(folder / layout.LOSO_CSV, newline="", encoding="utf-8") as fh:
        assert [r["source"] for r in csv.DictReader(fh)] == sorted(SITES)
    # each held-out source reaches the verdict of its run, and the folder's own verdict
    verdict = report["verdict"]
    kept = json.loads((folder / layout.LOSO_JSON).read_text())["verdict"]
    assert kept == {k: verdict[k] for k in ("reading", "level", "sentence", "evidence")}
    for site in SITES:
        row = rows[site]
        own = run_verdict(report["runs"][site])
        line = next(e for e in own.evidence if e.key == "loso")
        rates = [row[k] for k in ("sensitivity", "specificity") if row[k] is not None]
        assert line.finding.startswith(f"{site} (held out, 12 images): sens ")
        assert line.level == ("some" if min(rates) < 0.5 else "none")  # loso_floor 0.5
        mine = next(e for e in verdict["evidence"] if e["label"] == f"held out: {site}")
        assert (mine["level"], mine["finding"]) == (line.level, line.finding)
        card = (Path(report["runs"][site]) / layout.MODEL_CARD).read_text()
        assert f"test split: source '{site}' alone" in card
    worst = {e["level"] for e in verdict["evidence"]}
    assert verdict["level"] == ("some" if "some" in worst else "none")
    page = (folder / layout.REPORT).read_text(encoding="utf-8")
    assert "held out: kids" in page and "None split" not in page


def test_loso_on_one_source_is_one_error_line(cli, tiny_config: Path, tmp_path: Path):
    result = cli("loso", str(tiny_config), "-o", str(tmp_path / "runs"))
    assert result.exit_code == 1 and result.stderr.count("Error:") == 1
    assert "two or more sources" in result.stderr and not (tmp_path / "runs").exists()
    refused = cli("loso", str(tiny_config), "--until", "audit")
    assert refused.exit_code == 2 and "No such option: --until" in refused.stderr


def test_a_held_out_source_the_data_lacks_names_the_sources(cli, loso_config: Path,
                                                            tmp_path: Path):
    result = cli("run", str(loso_config), "--set", "split.hold_out_source=kermany", "-o",
                 str(tmp_path / "runs"))
    assert result.exit_code == 1 and result.stderr.count("Error:") == 1
    assert "'kermany'" in result.stderr and "covid-ward, kids, mixed" in result.stderr


def test_a_fold_the_data_cannot_support_is_reported_and_the_others_go_on(cli, loso_config: Path,
                                                                        tmp_path: Path):
    text = loso_config.read_text()
    # a generator needing more covid images than "mixed" alone has left once "covid-ward" is out
    loso_config.write_text(text + '\n[generator]\nenabled = true\nname = "dcgan"\n'
                           'balance_class = "covid"\nratio = 1.0\nepochs = 1\nsize = 16\n'
                           'batch_size = 2\ng_filters = 4\nd_filters = 4\nmin_images = 5\n')
    result = cli("loso", str(loso_config), "-o", str(tmp_path / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert set(summary["failed"]) == {"covid-ward"}
    assert all("at least 5 training images" in m for m in summary["failed"].values())
    assert [r["source"] for r in summary["sources"]] == ["kids", "mixed"]
