"""Free space is checked before the large writes: checkpoints, the run's models, ONNX files.

A real small filesystem needs root (a loop mount or tmpfs), which CI does not
have, so these tests replace ``shutil.disk_usage`` as the free-space check reads
it (in-process, through pytest's ``monkeypatch``): the folders named in the test
report no byte free, every other folder its real free space. What is
asserted is what a user sees: one ``Error:`` line naming the file and "no space
left", the run's recorded status, and no half-written file.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from bamnet_testing import TINY_CONFIG
from onnx_fixtures import write_tiny_model

from bamnet_core.errors import DiskFullError
from bamnet_core.runs import layout

REAL = shutil.disk_usage


def nearly_full(monkeypatch: pytest.MonkeyPatch, marker: str) -> None:
    """Folders whose path contains ``marker`` have no byte free."""
    def usage(path):
        real = REAL(path)
        return real._replace(free=0) if marker in str(path) else real

    monkeypatch.setattr("bamnet_core._util.diskspace.shutil.disk_usage", usage)


def test_a_checkpoint_that_does_not_fit_is_one_error_line_and_a_failed_status(
        tmp_path, cli, monkeypatch):
    nearly_full(monkeypatch, f"/{layout.CHECKPOINT}")
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_CONFIG)
    result = cli("run", str(config), "-o", str(tmp_path / "runs"))
    assert result.exit_code == 1
    errors = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "no space left on device for the checkpoint" in errors[0]
    assert "0.0 MB free" in errors[0]
    assert "unexpected" not in result.stderr
    run = next((tmp_path / "runs").iterdir())
    meta = json.loads((run / layout.META).read_text())
    assert meta["status"] == "failed" and "no space left" in meta["error"]
    # the first epoch's checkpoint fit (its folder did not exist yet, so its parent was
    # read); the next was refused before writing: no temp file, state names a whole file
    state = json.loads((run / layout.CHECKPOINT / layout.CHECKPOINT_STATE).read_text())
    kept = sorted(p.name for p in (run / layout.CHECKPOINT).iterdir())
    assert kept == sorted([state["model_file"], layout.CHECKPOINT_STATE])


def test_an_onnx_file_that_does_not_fit_its_folder_is_refused_before_writing(
        tmp_path, monkeypatch):
    from bamnet_core.export.workdir import publish, write_model

    source = write_tiny_model(tmp_path / "m.onnx")
    target = tmp_path / "full-disk" / layout.ONNX
    nearly_full(monkeypatch, "full-disk")
    with pytest.raises(DiskFullError,
                       match=f"no space left on device for .*{re.escape(layout.ONNX)}"):
        publish(source, target)
    assert not target.exists() and not list(target.parent.iterdir())

    big = SimpleNamespace(ByteSize=lambda: 10**9, SerializeToString=lambda: b"")
    staged = tmp_path / "full-disk" / layout.onnx_variant("int8")
    with pytest.raises(DiskFullError, match=f"the ONNX model {layout.onnx_variant('int8')}"):
        write_model(staged, big)
    assert not staged.exists()


def test_enough_room_writes_as_before(tmp_path):
    from bamnet_core.export.workdir import publish

    source = write_tiny_model(tmp_path / "m.onnx")
    publish(source, tmp_path / "out" / layout.ONNX)
    assert (tmp_path / "out" / layout.ONNX).read_bytes() == Path(source).read_bytes()
