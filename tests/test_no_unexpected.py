"""Hostile inputs that once read "unexpected" or named the wrong cause: each is one ``Error:``
line (or one refusal) that names what is really wrong."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_fixtures import write_tiny_model

from bamnet_core.errors import ConfigError, ImageDecodeError, RunError
from bamnet_core.imaging.decode import decode_image
from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_core.runs import layout
from bamnet_core.runs.folder import RunFolder
from bamnet_core.runs.split_table import read_split_rows
from bamnet_core.score.metadata import ModelFileError, ModelInfo

SPEC = {"size": 8, "channels": 1, "scaling": "unit", "interpolation": "area",
        "aspect": "stretch"}


def props(**changed: str) -> dict[str, str]:
    return {"bamnet.classes": json.dumps(["normal", "covid"]), "bamnet.positive": "covid",
            "bamnet.threshold": "0.5", "bamnet.preprocess": json.dumps(SPEC), **changed}


def with_metadata(tmp_path: Path, **changed: str) -> Path:
    import onnx

    path = write_tiny_model(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    for entry in model.metadata_props:
        if entry.key in changed:
            entry.value = changed.pop(entry.key)
    for key, value in changed.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def score_errors(cli, tmp_path: Path, model: Path) -> list[str]:
    images = tmp_path / "imgs"
    images.mkdir(exist_ok=True)
    cv2.imwrite(str(images / "a.png"), np.full((8, 8), 100, np.uint8))
    result = cli("score", str(model), str(images), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code != 0
    assert "unexpected" not in result.stderr, result.stderr
    return [x for x in result.stderr.splitlines() if x.startswith("Error:")]


def test_splits_csv_linked_to_etc_passwd_is_named_not_a_split_table(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    (run.path / layout.SPLITS_CSV).symlink_to("/etc/passwd")
    with pytest.raises(RunError) as err:
        read_split_rows(run)
    assert f"{run.path / layout.SPLITS_CSV} is not the split table a run writes" in str(err.value)
    assert "it lacks the columns split, path, label" in str(err.value)
    assert f"bamnet resume {run.path} --from data" in err.value.hint


def test_a_split_row_that_is_not_one_is_named_by_its_line(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    (run.path / layout.SPLITS_CSV).write_text("split,path,label\ntrain,a.png,covid\n"
                                              "holiday,b.png,normal\n")
    with pytest.raises(RunError, match="line 3 is not a row of the split table"):
        read_split_rows(run)


def test_export_reads_splits_csv_through_the_same_check(tmp_path):
    from bamnet_core.export.onnx_export import split_rows

    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    (run.path / layout.SPLITS_CSV).symlink_to("/etc/passwd")
    with pytest.raises(RunError, match="is not the split table a run writes"):
        split_rows(run, "val", 10)


def test_preprocess_metadata_nested_100000_deep_is_named(cli, tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    errors = score_errors(cli, tmp_path, with_metadata(tmp_path, **{"bamnet.preprocess": deep}))
    assert len(errors) == 1 and "malformed bamnet metadata" in errors[0], errors
    assert "invalid preprocessing spec: 200,000 characters" in errors[0], errors


def test_nesting_within_the_length_limit_is_named_too():
    with pytest.raises(ConfigError, match="nested too deeply"):
        PreprocessSpec.from_json("[" * 2000 + "]" * 2000)


def test_an_extra_key_in_the_preprocess_metadata_is_named(cli, tmp_path):
    spec = json.dumps({**SPEC, "evil": 1})
    errors = score_errors(cli, tmp_path, with_metadata(tmp_path, **{"bamnet.preprocess": spec}))
    assert len(errors) == 1, errors
    assert "invalid preprocessing spec: unknown key 'evil' (a spec has size, channels, scaling, " \
        "interpolation, aspect)" in errors[0], errors
    assert "__init__" not in errors[0]


@pytest.mark.parametrize("document", ["[1, 2]", "null", '"text"'])
def test_a_preprocess_spec_that_is_not_an_object_is_named(document):
    with pytest.raises(ConfigError, match="not an object of its keys"):
        PreprocessSpec.from_json(document)


def test_a_png_named_dcm_is_named_a_png(tmp_path):
    path = tmp_path / "chest.dcm"
    ok, png = cv2.imencode(".png", np.full((16, 16), 90, np.uint8))
    path.write_bytes(png.tobytes())
    with pytest.raises(ImageDecodeError) as err:
        decode_image(path)
    assert err.value.reason == "not a DICOM file: its bytes are a PNG image, named .dcm"
    assert err.value.kind == "not-an-image"


def test_a_garbage_model_keras_is_named_damaged_not_missing(tmp_path):
    from bamnet_core.export.onnx_export import _load_keras

    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    (run.path / layout.MODEL).write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(RunError) as err:
        _load_keras(run)
    assert str(err.value).startswith(f"{run.path / layout.MODEL} is damaged: not a readable "
                                     ".keras file"), str(err.value)
    assert "File not found" not in str(err.value)
    assert err.value.hint == f"write it again with: bamnet resume {run.path} --from train"


@pytest.mark.parametrize("precision", ["fp32\x1b[2J", "<script>", "x" * 500])
def test_a_precision_no_export_writes_is_refused_not_echoed(precision):
    with pytest.raises(ModelFileError) as err:
        ModelInfo.from_props(props(**{"bamnet.precision": precision}))
    assert "bamnet.precision must be one of fp32, int8, fp16" in str(err.value)
    assert len(str(err.value)) < 200 and "\x1b" not in str(err.value)


def test_every_precision_export_writes_is_read(tmp_path):
    for precision in ("fp32", "int8", "fp16"):
        assert ModelInfo.from_props(props(**{"bamnet.precision": precision})).precision == \
            precision
