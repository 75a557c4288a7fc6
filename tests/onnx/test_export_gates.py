"""The gates of ``bamnet export``: fp32 against Keras, int8/fp16 against fp32, and what a
refused or killed export leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bamnet_testing import kill_parked, parked_bamnet

import bamnet_core.export.variants as variants
from bamnet_core.export.gates import GateLimits
from bamnet_core.export.parity import compare, decision_margin
from bamnet_core.runs import layout


@pytest.fixture
def damaged_calibration(monkeypatch):
    """int8 calibrated on black images: every activation range collapses."""
    real = variants.quantize_apart

    def damaged(fp32_path, out_path, calibration, input_name, **kwargs):
        return real(fp32_path, out_path, calibration.mapped(np.zeros_like), input_name, **kwargs)

    monkeypatch.setattr(variants, "quantize_apart", damaged)


def _report(run: Path) -> dict:
    return json.loads((run / layout.EXPORT_REPORT).read_text())


def test_damaged_int8_is_refused_not_written_and_exits_1(run_copy, cli, damaged_calibration):
    stale = run_copy / layout.onnx_variant("int8")
    stale.write_bytes(b"an older export's int8 file")
    result = cli("export", str(run_copy), "--onnx", "--int8", "--fp16")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "int8 variant failed its gate" in errors[0]
    assert "label_agreement" in errors[0] and "FAILED" in errors[0]
    assert "--allow-degraded" in result.stderr
    assert not stale.exists(), "a refused variant must not leave an older file in its place"
    assert (run_copy / layout.ONNX).is_file() and (run_copy / layout.onnx_variant("fp16")).is_file()
    gates = {name: entry["gate"] for name, entry in _report(run_copy)["models"].items()}
    assert gates["fp32"]["passed"] and gates["fp32"]["written"]
    assert gates["fp16"]["passed"] and gates["fp16"]["written"]
    assert not gates["int8"]["passed"] and not gates["int8"]["written"]
    assert f"fp16 gate (vs fp32) passed for {layout.onnx_variant('fp16')}" in result.stderr
    assert not [p for p in run_copy.iterdir() if ".tmp" in p.name]


def test_allow_degraded_writes_the_failed_variant_with_a_warning(run_copy, cli,
                                                                  damaged_calibration):
    result = cli("export", str(run_copy), "--onnx", "--int8", "--allow-degraded")
    assert result.exit_code == 0, result.stderr
    assert (run_copy / layout.onnx_variant("int8")).is_file()
    assert f"int8 gate (vs fp32) FAILED for {layout.onnx_variant('int8')}, written anyway" \
        in result.stderr
    gate = _report(run_copy)["models"]["int8"]["gate"]
    assert not gate["passed"] and gate["written"]


def test_good_int8_passes_and_each_gate_names_its_file(run_copy, cli):
    result = cli("export", str(run_copy), "--onnx", "--int8")
    assert result.exit_code == 0, result.stderr
    assert f"fp32 gate (vs keras) passed for {layout.ONNX}" in result.stderr
    assert f"int8 gate (vs fp32) passed for {layout.onnx_variant('int8')}" in result.stderr
    report = _report(run_copy)
    assert report["limits"] == {"fp32_tolerance": 1e-4, "min_label_agreement": 0.99,
                                "max_accuracy_drop": 0.5, "max_auc_drop": 0.005}
    checks = {c["check"]: c for c in report["models"]["int8"]["gate"]["checks"]}
    assert checks["label_agreement"]["value"] >= 0.99
    assert checks["accuracy_drop_points"]["value"] <= 0.5


def test_exit_status_follows_the_gate_under_the_tightest_limits(run_copy, cli):
    result = cli("export", str(run_copy), "--onnx", "--int8", "--max-auc-drop", "0",
                 "--max-accuracy-drop", "0", "--min-label-agreement", "1", "--json")
    exit_ok = result.exit_code == 0
    gate = _report(run_copy)["models"]["int8"]["gate"]
    # the verdict follows the numbers: pass exactly when every check meets the tight limit
    assert exit_ok == gate["passed"] == (run_copy / layout.onnx_variant("int8")).is_file()
    assert all(c["limit"] in (0, 1) for c in gate["checks"])


@pytest.mark.parametrize("option,value", [("--max-accuracy-drop", "nan"),
                                          ("--max-auc-drop", "-1"),
                                          ("--min-label-agreement", "1.5")])
def test_bad_limits_are_one_error_line(run_copy, cli, option, value):
    result = cli("export", str(run_copy), "--onnx", "--int8", option, value)
    assert result.exit_code == 1
    assert result.stderr.count("Error:") == 1 and option in result.stderr
    assert not (run_copy / layout.ONNX).exists()


def test_fp32_label_flip_within_tolerance_of_the_threshold_does_not_count():
    keras = np.array([[0.49996, 0.50004], [0.9, 0.1]])
    onnx_side = np.array([[0.50001, 0.49999], [0.9, 0.1]])  # diff 5e-5 flips image 1
    margin = decision_margin(keras, 1, 0.5)
    result = compare(keras, onnx_side, ["covid", "normal"], ["normal", "normal"], ["a", "b"],
                     1e-4, margin)
    assert result.passed and result.mismatched_labels == 0
    far = compare(keras, onnx_side, ["covid", "normal"], ["normal", "normal"], ["a", "b"],
                  1e-6, margin)
    assert not far.passed and far.mismatched_labels == 1 and far.mismatched_paths == ["a"]


def test_export_progress_has_real_totals(trained_run, tmp_path):
    from bamnet_core.experiment.export_stage import carried_facts
    from bamnet_core.export.onnx_export import export_onnx

    events = []
    export_onnx(trained_run, carried=carried_facts(trained_run),
                output=tmp_path / layout.ONNX, int8=True,
                limits=GateLimits(max_auc_drop=1.0), progress=events.append)
    steps = [e for e in events if e.stage == "export"]
    assert steps and all(e.total == steps[0].total for e in steps)
    assert [e.completed for e in steps] == list(range(steps[0].total + 1))
    calibrate = [e for e in events if e.stage == "calibrate"]
    assert calibrate and calibrate[-1].completed == calibrate[-1].total > 0
    assert any(e.stage == "decode val" and e.total for e in events)


def test_work_folders_of_dead_exports_are_swept(tmp_path):
    from bamnet_core.export.workdir import PREFIX, export_workdir, sweep_stale

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    root = tmp_path / "work"
    (root / f"{PREFIX}{dead}-abc").mkdir(parents=True)
    (root / f"{PREFIX}{os.getpid()}-mine").mkdir()
    assert [p.name for p in sweep_stale(root)] == [f"{PREFIX}{dead}-abc"]
    assert (root / f"{PREFIX}{os.getpid()}-mine").is_dir()
    with export_workdir() as work:
        assert work.is_dir()
    assert not work.exists()


@pytest.mark.slow  # a subprocess imports TensorFlow and exports
def test_sigkill_during_export_leaves_nothing_in_the_run_folder(run_copy, tmp_path):
    root = Path(__file__).resolve().parents[2]
    cache = Path(os.environ["BAMNET_CACHE_DIR"])
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}"}
    before = set(p.name for p in run_copy.iterdir())
    # the export parks once its int8 model is quantized in the work folder: killed mid-run
    marker = tmp_path / "parked"
    proc = subprocess.Popen(parked_bamnet("bamnet_core.export.variants:quantize_apart", 1, marker,
                                          "export", str(run_copy), "--onnx", "--int8", "--fp16",
                                          "--json"), env=env, cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mine = f"export-{proc.pid}-"
    kill_parked(proc, marker)
    work = list((cache / "export-work").glob(f"{mine}*"))
    assert work and any(work[0].glob(layout.onnx_variant("int8")))
    assert set(p.name for p in run_copy.iterdir()) == before
    from bamnet_core.export.workdir import sweep_stale

    assert any(p.name.startswith(mine) for p in sweep_stale(cache / "export-work"))
