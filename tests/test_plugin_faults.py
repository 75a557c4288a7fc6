"""Faults in plugin code are named by plugin and contained; results cross a strict JSON boundary."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bamnet_core.experiment.evaluation import NotJSON, plain_json
from bamnet_core.runs import layout

EVALUATORS = """
import numpy as np
from bamnet_core.contract import hookimpl

class Boom:
    '''Always fails.'''
    def evaluate(self, y_true, y_prob, *, class_names, positive, threshold):
        raise KeyError("oops")

class Numpy:
    '''Returns numpy types.'''
    def evaluate(self, y_true, y_prob, *, class_names, positive, threshold):
        return {"n": np.int64(len(y_true)), "mean": np.float32(0.25),
                "hist": np.array([1, 2, 3]), "flag": np.bool_(True)}

class Undefined:
    '''Returns NaN.'''
    def evaluate(self, y_true, y_prob, *, class_names, positive, threshold):
        return {"score": float("nan")}

@hookimpl
def register_evaluators(register):
    register("boom", Boom)
    register("numpy", Numpy)
    register("undefined", Undefined)
"""


@pytest.fixture
def evaluator_plugin(install_fake):
    install_fake("bamnet-fake-evals", EVALUATORS, "fake-evals")


def test_a_raising_evaluator_loses_no_other_result(cli, tmp_path: Path, tiny_config: Path,
                                                   evaluator_plugin):
    result = cli("run", str(tiny_config), "--output-dir", str(tmp_path / "runs"), "--set",
                 'evaluate.evaluators=["classification", "boom", "numpy", "undefined"]')
    assert result.exit_code == 4, result.stderr
    assert "Error: 3 evaluation(s) failed" not in result.stderr  # per split: 2 evaluators x 1
    assert "evaluator 'boom' from plugin 'bamnet-fake-evals' failed: KeyError" in result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run_dir / layout.METRICS).read_text())
    val = metrics["splits"]["val"]["evaluators"]
    assert 0.0 <= val["classification"]["accuracy"] <= 1.0  # the built-in result is kept
    numbers = {k: v for k, v in val["numpy"].items() if k != "intervals"}
    images = metrics["splits"]["val"]["images"]
    assert numbers == {"n": images, "mean": 0.25, "hist": [1, 2, 3], "flag": True}
    assert "from plugin 'bamnet-fake-evals' failed: KeyError: 'oops'" in val["boom"]["error"]
    assert "score is nan" in val["undefined"]["error"].lower()
    assert {e["evaluator"] for e in metrics["evaluator_errors"]} == {"boom", "undefined"}
    meta = json.loads((run_dir / layout.META).read_text())
    assert meta["status"] == "evaluators-failed"
    assert (run_dir / layout.MODEL).is_file()


def test_plain_json_converts_numpy_and_refuses_what_json_cannot_hold():
    assert plain_json({"a": np.float64(0.5), "b": [np.int32(2)], "c": (1, None)}) == \
        {"a": 0.5, "b": [2], "c": [1, None]}
    for bad, where in (({"x": math.inf}, "result.x"), ({"x": {1: 2}}, "result.x"),
                       ({"x": [object()]}, "result.x[0]"), ({"x": np.array([np.nan])},
                                                            "result.x[0]")):
        with pytest.raises(NotJSON, match=where.replace("[", r"\[")):
            plain_json(bad)


def test_a_raising_plugin_command_names_the_plugin(cli, install_fake):
    install_fake("bamnet-fake-cmd", """
import typer
from bamnet_core.contract import DataError, hookimpl

@hookimpl
def register_commands(app):
    @app.command("explode")
    def explode() -> None:
        '''Fails.'''
        raise KeyError("oops")

    @app.command("refuse")
    def refuse() -> None:
        '''Speaks to the user.'''
        raise DataError("no such dataset", hint="fetch it first")

    @app.command("leave")
    def leave() -> None:
        '''Exits with its own status.'''
        raise typer.Exit(3)
""", "fake-cmd")
    result = cli("explode")
    assert result.exit_code == 1
    assert "Error: command 'explode' from plugin 'bamnet-fake-cmd' failed: KeyError" \
        in result.stderr
    assert "unexpected" not in result.stderr and "fault in bamnet-fake-cmd" in result.stderr
    refused = cli("refuse")  # a BamnetError passes unchanged
    assert refused.exit_code == 1 and "Error: no such dataset" in refused.stderr
    assert "fetch it first" in refused.stderr and "fault in" not in refused.stderr
    left = cli("leave")  # the command line's own signals pass too
    assert left.exit_code == 3 and "Error" not in left.stderr


CLAIMS_EVERYTHING = """
from bamnet_core.contract import DataError, hookimpl

class Greedy:
    '''Claims every folder, then cannot read it.'''
    detect_priority = 1000

    def __init__(self, *, root: str):
        self.root = root

    @classmethod
    def detect(cls, path):
        return {"root": str(path)} if path.is_dir() else None

    def samples(self):
        raise DataError(f"{self.root}: not a greedy dataset")

@hookimpl
def register_dataset_sources(register):
    register("greedy", Greedy)
"""


def test_a_source_that_claims_a_path_it_cannot_read_passes_it_on(cli, tmp_path: Path,
                                                                 install_fake):
    import cv2

    install_fake("bamnet-fake-greedy", CLAIMS_EVERYTHING, "fake-greedy")
    for label in ("covid", "normal"):
        (tmp_path / "d" / label).mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(tmp_path / "d" / label / f"{i}.png"),
                        np.full((16, 16), 40 * i + (90 if label == "covid" else 0), np.uint8))
    result = cli("data", "inspect", str(tmp_path / "d"), "--json", "--near", "-1")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "image-folder"


def test_manifest_csv_does_not_claim_a_csv_without_its_columns(cli, tmp_path: Path):
    other = tmp_path / "other.csv"
    other.write_text("file,finding\na.png,covid\n", encoding="utf-8")
    result = cli("data", "inspect", str(other))
    assert result.exit_code == 1
    assert "no dataset source can read this path" in result.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path):
    import cv2
    from onnx_fixtures import write_tiny_model

    folder = tmp_path / "imgs"
    folder.mkdir()
    image = cv2.imencode(".png", np.full((8, 8), 100, np.uint8))[1].tobytes()
    for i in range(1500):  # well over a pipe's 64 KiB of rows
        (folder / f"{i:04d}.png").write_bytes(image)
    model = write_tiny_model(tmp_path / "m.onnx")
    bamnet = [sys.executable, "-m", "bamnet_core"]
    env = {**os.environ, "BAMNET_LOAD_PLUGINS": ""}
    with subprocess.Popen([*bamnet, "score", str(model), str(folder)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env) as proc:
        first = proc.stdout.readline()
        proc.stdout.close()  # what `| head -1` does
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert first.startswith(b"path,prob_normal")
    assert "Error" not in stderr and "Broken pipe" not in stderr and "Traceback" not in stderr
    assert code in (0, 141)
