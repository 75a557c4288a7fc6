"""``bamnet export --onnx``: metadata, dynamic batch, the parity gate, int8/fp16 variants."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_core.runs import layout
from bamnet_core.score.metadata import KEYS


def _props(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_export_embeds_metadata_and_a_named_dynamic_batch(trained_run, exported_model):
    props = _props(exported_model)
    assert set(KEYS) <= set(props)
    metrics = json.loads((trained_run / layout.METRICS).read_text())
    assert json.loads(props["bamnet.classes"]) == metrics["classes"] == ["normal", "covid"]
    assert props["bamnet.positive"] == "covid"
    assert float(props["bamnet.threshold"]) == metrics["threshold"]
    assert PreprocessSpec.from_json(props["bamnet.preprocess"]) == PreprocessSpec.from_json(
        (trained_run / layout.PREPROCESS).read_text())
    embedded = json.loads(props["bamnet.metrics"])
    run_val = metrics["splits"]["val"]["evaluators"]
    assert {k: v for k, v in embedded["evaluators"].items() if k != "gradcam"} == \
        {k: v for k, v in run_val.items() if k != "gradcam"}
    # the model travels, so image names are redacted to source and index (patient-data.md)
    names = [i["image"] for i in embedded["evaluators"]["gradcam"]["images"]]
    assert names and all(n.startswith("synthetic-cxr#") for n in names)
    assert not {n for n in names} & {i["image"] for i in run_val["gradcam"]["images"]}
    card = json.loads(props["bamnet.model_card"])
    assert "not for clinical diagnosis" in card["intended_use"]
    assert card["protocol"]["headline_split"] == metrics["headline"]["split"]
    assert len(props["bamnet.config_sha256"]) == 64
    verdict = json.loads(props["bamnet.verdict"])  # a DICOM SR of its results carries it
    assert verdict["reading"] and verdict["lines"][-1].startswith("Verdict: ")
    # where the threshold came from: the operating point the evaluate stage recorded
    assert props["bamnet.threshold_source"].startswith(metrics["operating_point"]["sentence"])
    model = onnx.load(str(exported_model))
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert model.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = ort.InferenceSession(str(exported_model), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        out = session.run(None, {"image": np.zeros((n, 32, 32, 1), np.float32)})[0]
        assert out.shape == (n, 2)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_export_report_records_the_gate(exported_model):
    report = json.loads((exported_model.parent / layout.EXPORT_REPORT).read_text())
    parity = report["models"]["fp32"]["parity_vs_keras"]
    assert parity["passed"] is True
    assert parity["images"] == report["validation_images"] > 0
    assert parity["max_abs_diff"] <= 1e-4
    assert parity["mismatched_labels"] == 0


def test_cli_export_defaults_to_the_run_folder(run_copy, cli):
    run = run_copy
    result = cli("export", str(run), "--onnx", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (run / layout.ONNX).is_file() and (run / layout.EXPORT_REPORT).is_file()
    assert report["models"]["fp32"]["path"] == layout.ONNX  # relative: the folder can move
    written = json.loads((run / layout.EXPORT_REPORT).read_text())
    assert written["schema_version"] == 1 and written["run"] == "."
    assert str(run) not in (run / layout.EXPORT_REPORT).read_text()
    assert "Error" not in result.stderr


def _assert_nothing_left(folder: Path) -> None:
    leftovers = sorted(p.name for p in folder.iterdir()
                       if p.suffix == ".onnx" or ".tmp" in p.name or p.name == layout.EXPORT_REPORT)
    assert leftovers == []


def test_broken_graph_is_refused_and_no_file_is_left(run_copy, cli, monkeypatch):
    import bamnet_core.export.onnx_export as export

    real = export.keras_to_onnx

    def broken(model, spec, opset):
        proto = real(model, spec, opset)
        # nudge the classifier's bias: a converter bug of the kind the gate exists for
        for init in proto.graph.initializer:
            arr = numpy_helper.to_array(init)
            if arr.shape == (2,):
                init.CopyFrom(numpy_helper.from_array(arr + np.array([0.5, -0.5], arr.dtype),
                                                      init.name))
        return proto

    monkeypatch.setattr(export, "keras_to_onnx", broken)
    run = run_copy
    result = cli("export", str(run), "--onnx")
    assert result.exit_code == 1
    assert "disagrees with the Keras model" in result.stderr
    assert "no file was written" in result.stderr
    _assert_nothing_left(run)


def test_wrong_embedded_preprocessing_is_refused(trained_run, tmp_path, monkeypatch):
    from bamnet_core.export.parity import ParityError
    from bamnet_core.score.metadata import ModelInfo

    real = ModelInfo.to_props

    def wrong_spec(self, **extra):
        props = real(self, **extra)
        spec = json.loads(props["bamnet.preprocess"])
        props["bamnet.preprocess"] = json.dumps({**spec, "interpolation": "nearest"})
        return props

    monkeypatch.setattr(ModelInfo, "to_props", wrong_spec)
    from bamnet_core.experiment.export_stage import carried_facts
    from bamnet_core.export.onnx_export import export_onnx

    out = tmp_path / "out" / layout.ONNX
    out.parent.mkdir()
    with pytest.raises(ParityError, match="disagrees"):
        export_onnx(trained_run, carried=carried_facts(trained_run), output=out)
    _assert_nothing_left(out.parent)


def test_int8_and_fp16_variants_are_measured(trained_run, tmp_path):
    from bamnet_core.experiment.export_stage import carried_facts
    from bamnet_core.export.onnx_export import export_onnx
    from bamnet_core.score.scorer import Scorer

    out = tmp_path / layout.ONNX
    result = export_onnx(trained_run, carried=carried_facts(trained_run),
                         output=out, int8=True, fp16=True)
    assert set(result.variants) == {"int8", "fp16"}
    report = json.loads(result.report_path.read_text())
    for name in ("int8", "fp16"):
        entry = report["models"][name]
        path = result.report_path.parent / entry["path"]
        assert path == out.with_name(f"model.{name}.onnx") and path.is_file()
        assert _props(path)["bamnet.precision"] == name
        for key in ("accuracy_change_points", "speed_ratio_vs_fp32", "inference_images_per_s"):
            assert isinstance(entry[key], float)
        assert entry["parity_vs_keras"]["max_abs_diff"] < 0.1
        assert Scorer(path).score_paths([]) == []
    assert report["models"]["int8"]["settings"]["activation_type"] == "QInt8"
    assert report["models"]["int8"]["settings"]["calibration_images"] > 0
    ops = {n.op_type for n in onnx.load(str(out.with_name(layout.onnx_variant("int8")))).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops


def test_export_of_a_folder_that_is_not_a_run(tmp_path, cli):
    for args in ((), ("--onnx",), ("--onnx", "--int8")):
        result = cli("export", str(tmp_path), *args)
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert lines == [f"Error: {tmp_path} is not a bamnet run folder (no {layout.CONFIG})",
                         "Hint: pass a folder that `bamnet run` created, e.g. "
                         "runs/<stamp>-<name>"], result.stderr
    missing = cli("export", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "not found" in missing.stderr
    assert "choose an export format" not in missing.stderr


def test_export_of_a_run_without_a_model_says_how_to_finish_it(run_copy, cli):
    (run_copy / layout.MODEL).unlink()
    result = cli("export", str(run_copy), "--onnx")
    assert result.exit_code == 1
    assert f"Error: run {run_copy} has no trained model to export (no {layout.MODEL})" \
        in result.stderr
    assert f"Hint: finish the run first: bamnet resume {run_copy}" in result.stderr


def test_export_without_a_format_names_the_one_there_is(run_copy, cli):
    result = cli("export", str(run_copy))
    assert result.exit_code == 1
    assert "choose an export format: --onnx" in result.stderr
    assert f"bamnet export {run_copy} --onnx" in result.stderr


def _rewrite_validation(run: Path, change) -> None:
    """Rewrite the copy's validation rows of splits.csv with ``change(row) -> row or None``;
    the integrity record goes, as for a run made before bamnet kept one."""
    import csv

    path = run / layout.SPLITS_CSV
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    kept = [r if r["split"] != "val" else change(r) for r in rows]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(r for r in kept if r is not None)
    (run / layout.INTEGRITY).unlink()


def test_a_run_without_validation_images_is_refused_before_converting(run_copy, cli):
    _rewrite_validation(run_copy, lambda row: None)
    result = cli("export", str(run_copy), "--onnx")
    assert result.exit_code != 0
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error == [f"Error: {run_copy / layout.SPLITS_CSV} lists no validation image"]
    assert "converting with tf2onnx" not in result.stderr
    assert not (run_copy / layout.ONNX).exists()


def test_validation_images_that_are_all_gone_are_one_error(run_copy, cli, tmp_path):
    _rewrite_validation(run_copy, lambda row: {**row, "path": str(tmp_path / "gone.png")})
    result = cli("export", str(run_copy), "--onnx")
    assert result.exit_code != 0
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error == [f"Error: no validation image listed in {run_copy / layout.SPLITS_CSV} "
                     "could be decoded"]
    assert not (run_copy / layout.ONNX).exists()
