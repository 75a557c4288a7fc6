"""Every variant's rows hold probabilities that sum to 1, and its labels agree with fp32."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bamnet_core.runs import layout


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def variants_run(run_copy, cli):
    result = cli("export", str(run_copy), "--onnx", "--int8", "--fp16")
    assert result.exit_code == 0, result.stderr
    return run_copy


def test_int8_and_fp16_rows_sum_to_one_and_agree_with_fp32(variants_run, cli, tmp_path):
    with (variants_run / layout.SPLITS_CSV).open(newline="", encoding="utf-8") as f:
        images = Path(next(csv.DictReader(f))["path"]).parent  # the run's own images
    scored = {}
    for name, model in (("fp32", layout.ONNX), ("int8", layout.onnx_variant("int8")),
                        ("fp16", layout.onnx_variant("fp16"))):
        out = tmp_path / f"{name}.csv"
        result = cli("score", str(variants_run / model), str(images), "-o", str(out))
        assert result.exit_code == 0, result.stderr
        scored[name] = {r["path"]: r for r in _rows(out)}
        sums = np.array([float(r["prob_normal"]) + float(r["prob_covid"])
                         for r in scored[name].values()])
        assert len(sums) > 20 and np.abs(sums - 1).max() <= 1e-6, (name, sums.min())
    for name in ("int8", "fp16"):
        assert scored[name].keys() == scored["fp32"].keys()
        agree = np.mean([scored[name][p]["label"] == scored["fp32"][p]["label"]
                         for p in scored["fp32"]])
        assert agree >= 0.95, (name, agree)


def test_the_output_softmax_runs_in_float32_in_each_variant(variants_run):
    import onnx

    for name in ("int8", "fp16"):
        graph = onnx.load(str(variants_run / layout.onnx_variant(name))).graph
        made_by = {out: node for node in graph.node for out in node.output}
        last = made_by[graph.output[0].name]
        # the probabilities come straight from a Softmax, not a QuantizeLinear or a Cast
        assert last.op_type == "Softmax", (name, last.op_type)
        assert made_by[last.input[0]].op_type in ("Cast", "DequantizeLinear"), name
        if name == "fp16":  # its input is the fp16 logits cast to float32
            cast = made_by[last.input[0]]
            assert [a.i for a in cast.attribute if a.name == "to"] == [onnx.TensorProto.FLOAT]
