"""A model's metadata is bounded before any image is read; every CSV text cell is safe."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_fixtures import write_tiny_model

from bamnet_core.errors import ImageDecodeError
from bamnet_core.score.metadata import MAX_CLASS_NAME, MAX_CLASSES
from bamnet_core.score.rows import csv_cells, record_from_cells
from bamnet_core.score.scorer import ScoreRecord


def dynamic_model(path: Path, *, spec_size: int, classes: list[str] | None = None) -> Path:
    """A (batch, H, W, 1) -> 2 model with dynamic height and width (mean intensity)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    classes = classes or ["normal", "covid"]
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["image", "axes"], ["m"], keepdims=0),
         helper.make_node("MatMul", ["m", "w"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probs"], axis=1)],
        "dyn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", "h", "w", 1])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 2])],
        [numpy_helper.from_array(np.array([1, 2], np.int64), "axes"),
         numpy_helper.from_array(np.array([[1.0, -1.0]], np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    spec = {"size": spec_size, "channels": 1, "scaling": "unit", "interpolation": "area",
            "aspect": "stretch"}
    for key, value in {"bamnet.format": "1", "bamnet.classes": json.dumps(classes),
                       "bamnet.positive": classes[1], "bamnet.threshold": "0.5",
                       "bamnet.preprocess": json.dumps(spec)}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((20, 20), 60 * i, np.uint8))
    return folder


def test_a_huge_preprocess_size_is_refused_before_any_image(tmp_path, images, cli):
    model = dynamic_model(tmp_path / "m.onnx", spec_size=30000)
    result = cli("score", str(model), str(images), "-o", str(tmp_path / "s.csv"))
    assert result.exit_code == 1
    assert "preprocess size must be an integer from 8 to 4096, got 30000" in result.stderr
    assert "unexpected" not in result.stderr and "MemoryError" not in result.stderr
    assert not (tmp_path / "s.csv").exists()


def test_a_dynamic_model_within_the_bound_scores(tmp_path, images, cli):
    model = dynamic_model(tmp_path / "m.onnx", spec_size=64)
    result = cli("score", str(model), str(images), "-o", str(tmp_path / "s.csv"))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("classes, problem", [
    ([f"c{i}" for i in range(MAX_CLASSES + 1)], f"2 to {MAX_CLASSES} distinct names"),
    (["normal", "x" * (MAX_CLASS_NAME + 1)], f"1 to {MAX_CLASS_NAME} printable"),
    (["normal", "co\nvid"], "printable"),
    (["normal", "covid\x1b[31m"], "printable"),
    (["normal", " covid"], "surrounding spaces"),
])
def test_bad_class_names_are_refused(tmp_path, images, cli, classes, problem):
    model = write_tiny_model(tmp_path / "m.onnx", classes=classes, positive=classes[1],
                             outputs=len(classes))
    result = cli("score", str(model), str(images))
    assert result.exit_code == 1
    assert "malformed bamnet metadata" in result.stderr and problem in result.stderr
    assert len(result.stderr.splitlines()) == 2  # one Error: line and its hint


FORMULA = "=cmd|' /C calc'!A0"


def test_a_formula_class_name_is_escaped_in_the_label_cell(tmp_path, cli):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(6):
        cv2.imwrite(str(folder / f"{i}.png"), np.random.default_rng(i).integers(
            0, 255, (8, 8), dtype=np.uint8))
    model = write_tiny_model(tmp_path / "m.onnx", classes=["normal", FORMULA],
                             positive=FORMULA, threshold="0.0")
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(folder), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["label"] == "'" + FORMULA for r in rows)
    result = cli("score", str(model), str(folder), "-o", str(out), "--resume")
    assert result.exit_code == 0 and "6 already done" in result.stderr  # read back unescaped


def test_every_text_cell_round_trips_and_errors_are_one_line():
    record = ScoreRecord("=evil.png", None, None, 0.5, "abc", "line one\nline two\r\n")
    assert record.error == "line one\\nline two"
    cells = csv_cells(record, ["a", "b"])
    assert cells[0] == "'=evil.png" and "\n" not in cells[-1]
    back = record_from_cells(cells, ["a", "b"])
    assert back.path == "=evil.png" and back.error == "line one\\nline two"
    scored = ScoreRecord("p.png", {"a": 0.1, "b": 0.9}, "@b", 0.5, "abc")
    cells = csv_cells(scored, ["a", "b"])
    assert cells[3] == "'@b"
    assert record_from_cells(cells, ["a", "b"]).label == "@b"


def test_a_multi_line_decode_error_is_one_line_in_the_cell_and_on_stderr(tmp_path, images, cli,
                                                                        monkeypatch):
    from bamnet_core.score import inputs

    def broken(path, data, **kwargs):
        raise ImageDecodeError(str(path), "codec said:\nline two\n[bold]markup[/bold]")

    monkeypatch.setattr(inputs, "decode_bytes", broken)
    model = write_tiny_model(tmp_path / "m.onnx")
    out = tmp_path / "s.csv"
    result = cli("score", str(model), str(images), "-o", str(out))
    assert result.exit_code == 3
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 3
    assert all(w.endswith("codec said:\\nline two\\n[bold]markup[/bold]") for w in warnings)
    assert len(out.read_text().splitlines()) == 4  # header and three one-line rows
