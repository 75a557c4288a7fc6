"""Run files have a schema: versions checked, old files read, the published schemas current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bamnet_core.errors import RunError
from bamnet_core.report import build_report, read_run
from bamnet_core.runs import layout
from bamnet_core.runs.files import FILES, MetaFile, MetricsFile
from bamnet_core.runs.folder import RunFolder
from bamnet_core.runs.schemas import COMMAND, generated, schema_file

DOCS = Path(__file__).resolve().parents[1] / "docs"
CONFIG = """\
[data]
source = "manifest-csv"
classes = ["normal", "covid"]
positive = "covid"

[backbone]
name = "small-cnn"
"""
META = {"bamnet_version": "0.1.0", "python": "3.11.7", "platform": "Linux", "plugins": [],
        "seed": 0, "config_origin": "quickstart", "status": "complete",
        "started_at": "2026-01-01T00:00:00+00:00", "finished_at": None, "device": None,
        "timings_s": {}, "stages": {"data": {"done_at": "2026-01-01T00:00:01+00:00"}}}
# metrics.json as bamnet wrote it before schema versions: evaluator results beside images
FLAT_METRICS = {"classes": ["normal", "covid"], "positive": "covid", "threshold": 0.5,
                "headline": {"split": "test", "note": "held-out test split"},
                "splits": {"test": {"images": 40, "patients": 30,
                                    "classification": {"accuracy": 0.9,
                                                       "counts": {"tp": 18, "fn": 2, "tn": 18,
                                                                  "fp": 2}}}},
                "split": {"by": "patient", "leaky": False}}


def make_run(folder: Path, **files: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / layout.CONFIG).write_text(CONFIG)
    for name, content in {layout.META: META, layout.METRICS: FLAT_METRICS, **files}.items():
        (folder / name).write_text(json.dumps(content))
    return folder


def test_the_published_json_schemas_are_current():
    stale = [relative for relative, text in generated().items()
             if not (DOCS / relative).is_file()
             or (DOCS / relative).read_text(encoding="utf-8") != text]
    assert not stale, f"out of date: {', '.join(stale)}; refresh them with: {COMMAND}"
    assert {p.name for p in (DOCS / "schemas").glob("*.schema.json")} == {
        schema_file(name) for name in FILES}


def test_a_newer_schema_version_is_refused_with_one_line_naming_the_file(tmp_path: Path, cli):
    run = make_run(tmp_path / "run", **{layout.METRICS: {**FLAT_METRICS, "schema_version": 7}})
    with pytest.raises(RunError) as caught:
        read_run(run)
    message = str(caught.value)
    assert "\n" not in message and str(run / layout.METRICS) in message
    assert "schema_version 7" in message and "upgrade bamnet" in caught.value.hint
    result = cli("report", str(run))
    assert result.exit_code == 1 and "Error:" in result.stderr
    assert f"{layout.METRICS} has schema_version 7" in " ".join(result.stderr.split())


def test_an_unknown_schema_version_is_refused(tmp_path: Path):
    run = RunFolder(make_run(tmp_path / "run", **{layout.META: {**META, "schema_version": "x"}}))
    with pytest.raises(RunError, match=f"{layout.META} has an unknown schema_version 'x'"):
        run.read_model(layout.META, MetaFile)


def test_a_file_written_before_schema_versions_reads_as_version_1(tmp_path: Path):
    record = read_run(make_run(tmp_path / "run"))
    assert record.meta is not None and record.meta.schema_version == 1
    assert record.meta.stages["data"].done_at.startswith("2026")
    assert record.metrics is not None and record.metrics.schema_version == 1
    assert record.results("test", "classification")["accuracy"] == 0.9  # moved under evaluators
    assert record.splits["test"].images == 40 and record.headline_split == "test"
    assert record.splits["test"].headline is None  # no evaluator said it measured the headline
    html = build_report(record).html.read_text()
    assert "<h2" in html and "Error" not in html


def test_the_new_split_shape_reads_as_written(tmp_path: Path):
    split = {"images": 40, "patients": 30,
             "evaluators": {"mine": {"score": 1.0}, "classification": {"accuracy": 0.9}},
             "evidence": {"mine": [{"key": "mine", "label": "my probe", "level": "some",
                                    "finding": "1.0", "meaning": "it reads the text"}]},
             "headline": {"metrics": [{"key": "accuracy", "label": "accuracy",
                                       "estimate": {"value": 0.9}}]},
             "headline_from": "classification"}
    metrics = MetricsFile.from_json({**FLAT_METRICS, "schema_version": 1,
                                     "splits": {"test": split}}, layout.METRICS)
    found = metrics.splits["test"]
    assert found.evidence["mine"][0].level == "some" and found.headline.get("accuracy").value == 0.9
    assert metrics.results("test", "mine") == {"score": 1.0}
    assert metrics.to_json()["splits"]["test"] == split


def test_a_run_file_is_written_with_its_version_first_and_paths_relative(tmp_path: Path):
    run = RunFolder(tmp_path)
    meta = MetaFile.model_validate({**META, "config_origin": str(tmp_path / layout.CONFIG)})
    run.write_model(layout.META, meta)
    text = (tmp_path / layout.META).read_text()
    assert text.lstrip("{\n ").startswith('"schema_version": 1')
    assert json.loads(text)["config_origin"] == layout.CONFIG
    assert run.read_model(layout.META, MetaFile).stages == meta.stages


def test_a_value_off_the_schema_is_one_error_naming_the_key(tmp_path: Path):
    run = RunFolder(make_run(tmp_path / "run", **{layout.META: {**META, "status": "unsure"}}))
    with pytest.raises(RunError, match=rf"{layout.META} is damaged \(status: Input should be"):
        run.read_model(layout.META, MetaFile)


@pytest.mark.parametrize(("change", "named"), [
    (lambda m: m.update(threshold=float("nan")), "threshold: Input should be a finite number"),
    (lambda m: m["splits"]["test"].update(images=-5), "splits.test.images: Input should be "
                                                       "greater than or equal to 0"),
    (lambda m: m.update(threshold=1.5), "threshold: Input should be less than or equal to 1"),
])
def test_a_number_no_run_writes_is_damage_named_by_key(tmp_path: Path, cli, change, named):
    metrics = json.loads(json.dumps(FLAT_METRICS))
    change(metrics)
    path = make_run(tmp_path / "run", **{layout.METRICS: metrics})  # json writes NaN as NaN
    result = cli("report", str(path))
    assert result.exit_code == 1
    assert f"{path / layout.METRICS} is damaged ({named})" in " ".join(result.stderr.split())


@pytest.mark.parametrize("odd", ["fifo", "folder", "loop"])
def test_something_else_in_a_run_files_place_is_refused_never_taken_as_absent(
        tmp_path: Path, cli, odd):
    import os

    run = make_run(tmp_path / "run")
    target = run / layout.METRICS
    target.unlink()
    {"fifo": lambda: os.mkfifo(target), "folder": target.mkdir,
     "loop": lambda: os.symlink(target.name, target)}[odd]()
    result = cli("report", str(run))
    assert result.exit_code == 1
    assert f"Error: cannot read {target}" in result.stderr
    assert "put back the file the run wrote" in result.stderr
