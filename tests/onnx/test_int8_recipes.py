"""``bamnet export --int8`` tries its recipes in order until one passes, reports each
attempt, marks the fastest model, and ``bamnet score`` names the variant it runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from bamnet_testing import parked_bamnet, wait_parked

import bamnet_core.export.variants as variants
from bamnet_core.export.quantize import INT8_RECIPES, end_nodes, quantize_int8
from bamnet_core.export.speed import Speed, faster, fastest
from bamnet_core.runs import layout


def _report(run: Path) -> dict:
    return json.loads((run / layout.EXPORT_REPORT).read_text())


@pytest.fixture
def first_recipe_damaged(monkeypatch):
    """The first recipe calibrates on black images (it fails); the others on the real ones."""
    real = variants.quantize_apart

    def quantize(fp32_path, out_path, calibration, input_name, *, recipe, **kwargs):
        if recipe == INT8_RECIPES[0]:
            calibration = calibration.mapped(np.zeros_like)
        return real(fp32_path, out_path, calibration, input_name, recipe=recipe, **kwargs)

    monkeypatch.setattr(variants, "quantize_apart", quantize)


def test_a_passing_first_recipe_is_the_only_attempt(run_copy, cli):
    result = cli("export", str(run_copy), "--onnx", "--int8")
    assert result.exit_code == 0, result.stderr
    int8 = _report(run_copy)["models"]["int8"]
    assert [a["recipe"] for a in int8["attempts"]] == [INT8_RECIPES[0].name]
    assert int8["attempts"][0]["passed"] and int8["recipe"] == INT8_RECIPES[0].name
    assert int8["settings"]["calibrate_method"] == "MinMax"
    assert "int8 attempt 1 (per-channel, MinMax): passed: label_agreement" in result.stderr
    assert "int8 file holds: per-channel, MinMax" in result.stderr
    timings = _report(run_copy)["timings_s"]  # wall seconds per step, printed too
    assert list(timings) == ["converting with tf2onnx",
                             "Keras on validation images, a batch at a time",
                             "parity gate: fp32 onnxruntime vs Keras",
                             "int8 variant and its gate",
                             "timing every model, in interleaved rounds",
                             "writing the checked files"]
    assert all(seconds >= 0 for seconds in timings.values())
    assert "Export took converting with tf2onnx" in result.stderr


def test_a_failing_recipe_is_followed_by_the_next(run_copy, cli, first_recipe_damaged):
    result = cli("export", str(run_copy), "--onnx", "--int8", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # the calibrators' stdout chatter stays out of --json
    int8 = report["models"]["int8"]
    tried = [a["recipe"] for a in int8["attempts"]]
    assert tried == [r.name for r in INT8_RECIPES[:len(tried)]] and len(tried) >= 2
    assert [a["passed"] for a in int8["attempts"]] == [False] * (len(tried) - 1) + [True]
    recipe = INT8_RECIPES[len(tried) - 1]
    assert int8["recipe"] == recipe.name
    assert int8["settings"]["calibrate_method"] == recipe.calibrate_method
    first = {c["check"]: c for c in int8["attempts"][0]["checks"]}
    assert first["label_agreement"]["value"] < 0.99 and not first["label_agreement"]["passed"]
    assert (run_copy / layout.onnx_variant("int8")).is_file()


def test_when_no_recipe_passes_every_one_is_reported(run_copy, cli, monkeypatch):
    real = variants.quantize_apart

    def black(fp32_path, out_path, calibration, input_name, **kwargs):
        return real(fp32_path, out_path, calibration.mapped(np.zeros_like), input_name, **kwargs)

    monkeypatch.setattr(variants, "quantize_apart", black)
    result = cli("export", str(run_copy), "--onnx", "--int8")
    assert result.exit_code == 1
    int8 = _report(run_copy)["models"]["int8"]
    assert [a["recipe"] for a in int8["attempts"]] == [r.name for r in INT8_RECIPES]
    assert not any(a["passed"] for a in int8["attempts"])
    assert "every int8 recipe was tried" in result.stderr
    assert not (run_copy / layout.onnx_variant("int8")).exists()
    assert _report(run_copy)["fastest"] == "fp32"


def test_speed_is_a_median_with_a_range_and_faster_needs_the_whole_range(run_copy, cli):
    result = cli("export", str(run_copy), "--onnx", "--int8", "--fp16")
    assert result.exit_code == 0, result.stderr
    report = _report(run_copy)
    models = report["models"]
    for entry in models.values():
        low, high = entry["inference_images_per_s_range"]
        assert low <= entry["inference_images_per_s"] <= high
        assert entry["timed_images"] >= 16 and entry["timing_rounds"] == 2
    speeds = {n: Speed(e["inference_images_per_s"], *e["inference_images_per_s_range"],
                       e["timed_images"], e["timing_rounds"]) for n, e in models.items()}
    assert report["fastest"] == fastest(speeds)
    assert [n for n, e in models.items() if e["fastest"]] == (
        [report["fastest"]] if report["fastest"] else [])
    for name in ("int8", "fp16"):
        assert models[name]["slower_than_fp32"] == faster(speeds["fp32"], speeds[name])
        assert models[name]["faster_than_fp32"] == faster(speeds[name], speeds["fp32"])
        if models[name]["slower_than_fp32"]:
            assert f"{name} is slower than fp32 on this machine" in result.stderr
    if report["fastest"]:
        assert f"Fastest on this machine: {report['fastest']}" in result.stderr
    else:
        assert "No model is faster than the others on this machine" in result.stderr


def test_keeping_the_ends_in_fp32_leaves_their_weights_unquantized(exported_model, tmp_path):
    import onnx

    from bamnet_core.score.scorer import Scorer

    recipe = next(r for r in INT8_RECIPES if r.keep_ends_fp32)
    scorer = Scorer(exported_model, provider="cpu")
    size = scorer.info.spec.size
    x = np.random.default_rng(0).random((8, size, size, scorer.info.spec.channels),
                                        dtype=np.float32)
    out = tmp_path / "kept.onnx"
    settings = quantize_int8(exported_model, out, x, scorer.session.get_inputs()[0].name,
                             recipe=recipe)
    kept = settings["nodes_kept_fp32"]
    assert len(kept) == 2 and settings["first_and_last_layers_fp32"]
    graph = onnx.load(str(out)).graph
    made_by = {o: n.op_type for n in graph.node for o in n.output}
    nodes = {n.name: n for n in graph.node}
    for name in kept:  # the weight comes from an initializer, not a DequantizeLinear
        assert made_by.get(nodes[name].input[1]) != "DequantizeLinear", name
    others = [n for n in graph.node if n.op_type in ("Conv", "MatMul", "Gemm")
              and n.name not in kept]
    assert any(made_by.get(n.input[1]) == "DequantizeLinear" for n in others)
    assert end_nodes(exported_model)  # the fp32 model has weighted nodes to keep


def test_score_names_the_variant_it_runs(run_copy, cli, tmp_path):
    import cv2

    assert cli("export", str(run_copy), "--onnx", "--int8").exit_code == 0
    image = tmp_path / "one.png"
    cv2.imwrite(str(image), np.full((40, 40), 120, np.uint8))
    shown = cli("score", str(run_copy / layout.onnx_variant("int8")), str(image), "-o",
                str(tmp_path / "rows.csv"))
    assert shown.exit_code == 0, shown.stderr
    assert "int8 (per-channel, MinMax) model." in shown.stderr
    summary = cli("score", str(run_copy / layout.ONNX), str(image), "--json", "-o",
                  str(tmp_path / "rows2.csv"))
    assert json.loads(summary.stdout)["variant"] == "fp32"


def test_each_int8_attempt_runs_in_a_child_process_that_ends_with_it(exported_model, tmp_path):
    from bamnet_core.export import quantize_process
    from bamnet_core.export.quantize import CalibrationImages
    from bamnet_core.score.scorer import Scorer

    scorer = Scorer(exported_model, provider="cpu")
    size, channels = scorer.info.spec.size, scorer.info.spec.channels
    x = np.random.default_rng(0).random((8, size, size, channels), dtype=np.float32)
    out, events = tmp_path / "apart.onnx", []
    settings = quantize_process.quantize_apart(
        exported_model, out, CalibrationImages.from_array(x), scorer.session.get_inputs()[0].name,
        progress=events.append)
    assert out.is_file() and settings["calibration_images"] == 8
    assert [e.completed for e in events if e.stage == "calibrate"][-1] == 2
    assert list(tmp_path.iterdir()) == [out]  # the calibration batches are gone


def test_a_failed_int8_child_is_one_error_naming_the_recipe(tmp_path):
    from bamnet_core.errors import RunError
    from bamnet_core.export import quantize_process
    from bamnet_core.export.quantize import CalibrationImages

    broken = tmp_path / layout.ONNX
    broken.write_bytes(b"not an onnx model")
    failed = r"int8 quantization \(per-channel, MinMax\) failed"
    with pytest.raises(RunError, match=failed) as caught:
        quantize_process.quantize_apart(broken, tmp_path / "int8.onnx",
                                        CalibrationImages.from_array(np.zeros((4, 8, 8, 1))),
                                        "input")
    # the one line names the recipe; the child's traceback rides along for BAMNET_DEBUG=1
    notes = "".join(getattr(caught.value, "__notes__", []))
    assert "in the quantizer child process" in notes and "Traceback" in notes


def _children(pid: int) -> list[int]:
    """The pids of ``pid``'s children now (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie has ended: it only awaits its reaping)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


TENSORFLOW_PARENT = """
import json, os, sys, threading
from dataclasses import asdict
from bamnet_core.experiment.export_stage import carried_facts
from bamnet_core.export.tensorflow_process import export_in_tensorflow
run, marker = sys.argv[1:3]

def park(event):  # the child's first progress line: it runs, and has set itself up
    with open(marker + ".tmp", "w") as fh:
        fh.write(str(os.getpid()))
    os.replace(marker + ".tmp", marker)
    threading.Event().wait()

export_in_tensorflow(run, {"opset": 17, "int8": False, "fp16": False, "calibration_images": 64,
                           "carried": asdict(carried_facts(run))}, park)
"""


def _parent(kind: str, run: Path, marker: Path) -> list[str]:
    """The command line of an export that parks on its ``kind`` child's first progress line."""
    if kind == "quantize_process":  # bamnet export --int8: each int8 attempt is a child
        return parked_bamnet("bamnet_core.export.child:ProgressEvent", 1, marker,
                             "export", str(run), "--onnx", "--int8")
    # a run trained on JAX or PyTorch exports in a TensorFlow child
    return [sys.executable, "-c", TENSORFLOW_PARENT, str(run), str(marker)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; the kernel's "
                    "parent-death signal is Linux's")
@pytest.mark.parametrize("kind", ["quantize_process", "tensorflow_process"])
def test_an_export_killed_with_sigkill_leaves_no_child_running(run_copy, tmp_path, kind):
    marker = tmp_path / "parked"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(_parent(kind, run_copy, marker), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    found: list[int] = []
    try:
        wait_parked(proc, marker)
        found = [c for c in _children(proc.pid)
                 if kind.encode() in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(found) == 1, f"the export runs one {kind} child"
        os.kill(found[0], signal.SIGSTOP)  # it cannot finish by itself now
        os.kill(proc.pid, signal.SIGKILL)  # no cleanup runs in the parent
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 30
        while _running(found[0]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(found[0]), f"the {kind} child outlived the killed export"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
