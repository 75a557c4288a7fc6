"""The report shows the export's gates and speeds: export runs before the report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bamnet_core.report.build import build_report
from bamnet_core.report.record import read_run, record_of
from bamnet_core.runs import layout
from bamnet_core.runs.files import ExportReportFile
from bamnet_core.runs.folder import RunFolder

CONFIG = {"data": {"source": "synthetic", "classes": ["normal", "covid"], "positive": "covid"},
          "backbone": {"name": "small-cnn"}}
METRICS = {"classes": ["normal", "covid"], "positive": "covid", "threshold": 0.5,
           "headline": {"split": "val"}, "splits": {"val": {"images": 10, "patients": 10}}}


def gate(passed: bool, value: float) -> dict:
    return {"against": "keras", "passed": passed, "written": passed,
            "checks": [{"check": "max_abs_diff", "value": value, "rule": "<=", "limit": 0.0001,
                        "passed": passed}]}


def export_report(**models: dict) -> ExportReportFile:
    return ExportReportFile.model_validate({
        "run": ".", "bamnet_version": "0", "opset": 17, "created_at": "2026-01-01T00:00:00",
        "validation_images": 10, "models": models,
        "fastest": next((n for n, m in models.items() if m.get("fastest")), None)})


def page(tmp_path: Path, export: ExportReportFile | None) -> str:
    record = replace(record_of(tmp_path, config=CONFIG, metrics=METRICS), export=export)
    return build_report(record).html.read_text()


def test_each_exported_model_shows_its_gate_checks_and_speed_range(tmp_path: Path):
    html = page(tmp_path, export_report(
        fp32={"path": layout.ONNX, "inference_images_per_s": 626.0,
              "inference_images_per_s_range": [541.0, 835.0], "fastest": True,
              "gate": gate(True, 2.4e-7)},
        int8={"path": layout.onnx_variant("int8"), "inference_images_per_s": 441.0,
              "inference_images_per_s_range": [388.0, 492.0], "gate": gate(False, 0.2)}))
    export = html[html.index('<section id="export">'):]
    export = export[:export.index("</section>")]
    assert "Gates checked on 10 validation images" in export
    assert "passed against keras" in export and "max_abs_diff 2.4e-07 &lt;= 0.0001" in export
    assert "failed</b> against keras (not written)" in export
    assert "626 (541&ndash;835) <b>fastest</b>" in export and "441 (388&ndash;492)" in export
    assert "their speed ranges overlap" not in export


def test_overlapping_speeds_name_no_fastest_model(tmp_path: Path):
    html = page(tmp_path, export_report(
        fp32={"path": layout.ONNX, "inference_images_per_s": 888.0,
              "inference_images_per_s_range": [459.0, 995.0], "gate": gate(True, 0.0)},
        fp16={"path": layout.onnx_variant("fp16"), "inference_images_per_s": 886.0,
              "inference_images_per_s_range": [293.0, 938.0], "gate": gate(True, 0.0)}))
    assert "No model is faster than the others here: their speed ranges overlap" in html
    assert "fastest</b>" not in html


def test_a_run_without_an_export_says_how_to_make_one(tmp_path: Path):
    assert "bamnet export RUN --onnx</code> makes one" in page(tmp_path, None)


def test_the_run_folder_read_once_holds_its_export_report(tmp_path: Path):
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    (run.path / layout.CONFIG).write_text('[data]\nsource = "synthetic"\nclasses = ["normal", '
                                          '"covid"]\npositive = "covid"\n\n[backbone]\n'
                                          'name = "small-cnn"\n')
    run.write_model(layout.EXPORT_REPORT, export_report(
        fp32={"path": layout.ONNX, "gate": gate(True, 0.0)}))
    record = read_run(run.path)
    assert record.export is not None and record.export.models["fp32"].gate.passed
