"""Mistakes a user can make, each answered by one clean ``Error:`` line and a hint.

Every case goes through the real command line (in-process). None may print a
traceback or the words "unexpected ... report it", which are kept for bugs.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_fixtures import write_tiny_model


def _png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cv2.imencode(".png", np.full((12, 12), 90, np.uint8))[1].tobytes())
    return path


def _evil_tar(path: Path) -> Path:
    with tarfile.open(path, "w") as tar:
        data = b"owned"
        info = tarfile.TarInfo("../../escape.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def _config(tmp: Path, text: str) -> str:
    path = tmp / "c.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# (id, builder of the argv from a temp folder, a fragment the error must contain)
CASES: list[tuple[str, Callable[[Path], list[str]], str]] = [
    ("dropout out of range", lambda t: ["run", "quickstart", "--set", "backbone.dropout=1.5"],
     "--set backbone.dropout: must be less than 1, got 1.5"),
    ("bad list item", lambda t: ["run", "quickstart", "--set", "backbone.filters=[8, 0]"],
     "--set backbone.filters[1]: must be greater than or equal to 1"),
    ("vgg16 freeze unknown", lambda t: ["run", "quickstart", "--set",
                                        'backbone={name = "vgg16", freeze = "block9"}'],
     "freeze 'block9'"),
    ("negative learning rate", lambda t: ["run", "quickstart", "--set", "train.optimizer.lr=-1"],
     "train.optimizer.lr: must be greater than 0"),
    ("negative seed", lambda t: ["run", "quickstart", "--seed", "-1"], "run.seed"),
    ("zero epochs", lambda t: ["run", "quickstart", "--set", "train.epochs=0"], "train.epochs"),
    ("tiny input size", lambda t: ["run", "quickstart", "--set", "preprocess.size=4"],
     "preprocess.size"),
    ("unknown evaluator", lambda t: ["run", "quickstart", "--set",
                                     'evaluate.evaluators=["clasification"]'],
     "did you mean 'classification'"),
    ("NaN threshold", lambda t: ["run", "quickstart", "--set", "evaluate.threshold=nan"],
     "finite number"),
    ("typo in a key", lambda t: ["run", "quickstart", "--set", "train.epoch=3"],
     "did you mean 'epochs'"),
    ("text for a number", lambda t: ["run", "quickstart", "--set",
                                     "data.patients_per_class=many"], "expected an integer"),
    ("switching backbone keeps old keys", lambda t: ["run", "quickstart", "--set",
                                                     "backbone.name=vgg16"], "backbone={"),
    ("section replaced by a value", lambda t: ["run", "quickstart", "--set", "backbone=3"],
     "a whole section needs a table"),
    ("missing config file", lambda t: ["run", str(t / "nope.toml")],
     "neither a preset nor a config file"),
    ("config is a folder", lambda t: ["run", str(t)], "not a regular file"),
    ("invalid TOML", lambda t: ["run", _config(t, "[run\nname=")], "invalid TOML"),
    ("unknown section", lambda t: ["run", _config(t, "[trian]\nepochs = 1\n")],
     "did you mean 'train'"),
    ("val and test leave nothing", lambda t: ["run", "quickstart", "--set", "split.val=0.9",
                                              "--set", "split.test=0.2"], "val + test"),
    ("resume a folder that is no run", lambda t: ["resume", str(t)],
     "not a bamnet run folder"),
    ("export a folder that is no run", lambda t: ["export", str(t), "--onnx"],
     "not a bamnet run folder"),
    ("positive class not among classes", lambda t: [
        "score", str(write_tiny_model(t / "m.onnx", positive="flu")), str(_png(t / "a.png"))],
     "positive class 'flu' is not among the classes"),
    ("classes do not match outputs", lambda t: [
        "score", str(write_tiny_model(t / "m.onnx", classes=["a", "b", "covid"])),
        str(_png(t / "a.png"))], "outputs 2 classes but its metadata names 3"),
    ("input size does not match metadata", lambda t: [
        "score", str(write_tiny_model(t / "m.onnx", spec_size=16)), str(_png(t / "a.png"))],
     "model input is 8x8x1 but its preprocessing makes 16x16x1"),
    ("NaN threshold in metadata", lambda t: [
        "score", str(write_tiny_model(t / "m.onnx", threshold="nan")), str(_png(t / "a.png"))],
     "bamnet.threshold must be in [0, 1]"),
    ("threshold NaN", lambda t: ["score", str(write_tiny_model(t / "m.onnx")),
                                 str(_png(t / "a.png")), "--threshold", "nan"],
     "threshold must be a number in [0, 1]"),
    ("threshold above 1", lambda t: ["score", str(write_tiny_model(t / "m.onnx")),
                                     str(_png(t / "a.png")), "--threshold", "5"],
     "threshold must be a number in [0, 1]"),
    ("not an ONNX file", lambda t: ["score", str(_png(t / "m.onnx")), str(_png(t / "a.png"))],
     "cannot load ONNX model"),
    ("missing model file", lambda t: ["score", str(t / "none.onnx"), str(t)], "not found"),
    ("archive member escapes the folder", lambda t: [
        "data", "fetch", "image-folder", "--dest", str(t / "d"),
        "--url", (_evil_tar(t / "evil.tar")).as_uri()], "refused member '../../escape.txt'"),
    ("uninstall bamnet itself", lambda t: ["uninstall", "bamnet"], "refusing to uninstall"),
    ("unknown preset", lambda t: ["presets", "show", "quickstrat"],
     "neither a preset nor a config file"),
    ("inspect a missing path", lambda t: ["data", "inspect", str(t / "missing")],
     "no such file"),
    ("option without a value", lambda t: ["data", "inspect", str(t), "--option", "colour"],
     "--option 'colour': expected key=value"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_mistake_gets_one_clean_error(cli, tmp_path: Path, monkeypatch, case):
    _, argv, fragment = case
    monkeypatch.chdir(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    result = cli(*argv(work))
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error:")]
    assert result.exit_code == 1, result.stderr
    assert len(errors) == 1, result.stderr
    assert any(ln.startswith("Hint:") for ln in lines), result.stderr
    assert "unexpected" not in result.stderr.lower() and "report it" not in result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr, result.stderr
    assert not (tmp_path / "runs").exists(), "a refused run must leave no run folder"


def test_the_table_covers_at_least_twenty_mistakes():
    assert len(CASES) >= 20


def test_a_bad_value_fails_before_any_decode(cli, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("run", "quickstart", "--set", "backbone.dropout=1.5")
    assert result.exit_code == 1 and "backbone.dropout" in result.stderr
    assert not (tmp_path / "runs").exists()
    # no image was decoded: the decode cache was never created
    assert "decode" not in result.stderr  # (its timing: benchmarks/config_errors.py)
