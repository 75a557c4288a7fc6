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
from dataclasses import replace
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


class _Net:
    """Stands in for a Keras network: a parameter count, and saves recorded."""

    def __init__(self, params: int, saved: list[str]) -> None:
        self.params, self.saved = params, saved

    def count_params(self) -> int:
        return self.params

    def save_weights(self, path) -> None:
        self.saved.append(str(path))
        Path(path).write_bytes(b"w")


def test_the_gan_checkpoint_is_refused_before_a_byte_is_written(tmp_path, monkeypatch):
    from bamnet_paper.generators import checkpoint

    saved: list[str] = []
    gan = SimpleNamespace(generator=_Net(10_000, saved), discriminator=_Net(10_000, saved),
                          optimizer=SimpleNamespace(variables=[]))
    workdir = tmp_path / "full-disk" / "gan-workdir"
    workdir.mkdir(parents=True)
    nearly_full(monkeypatch, "full-disk")
    state = checkpoint.GanState(fingerprint="f", epochs=5, epoch=5)
    with pytest.raises(DiskFullError, match=f"the GAN checkpoint epoch-0005: 0.0 MB free in "
                                            f"{re.escape(str(workdir))}"):
        checkpoint.save_epoch(workdir, gan, state)
    assert saved == [] and not list(workdir.rglob("*.h5"))


def test_plugin_images_and_figures_are_refused_on_a_full_disk(tmp_path, monkeypatch):
    import numpy as np

    from bamnet_paper.generators import figures

    nearly_full(monkeypatch, "full-disk")
    (tmp_path / "full-disk").mkdir()
    target = tmp_path / "full-disk" / "samples" / "epoch-0005.png"
    with pytest.raises(DiskFullError, match="the image epoch-0005.png"):
        figures.sample_grid(np.zeros((4, 8, 8, 1), np.float32), target)
    with pytest.raises(DiskFullError, match="the figure losses.png"):
        figures.loss_plot([{"epoch": 1, "d_loss": 1.0, "g_loss": 1.0}],
                          tmp_path / "full-disk" / "losses.png", "losses")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_the_contract_helper_names_the_folder_and_keeps_a_reserve(tmp_path, monkeypatch):
    from bamnet_core.contract import RESERVE, ensure_room

    def usage(path):
        return REAL(path)._replace(free=RESERVE + 100)

    monkeypatch.setattr("bamnet_core._util.diskspace.shutil.disk_usage", usage)
    ensure_room(tmp_path, 100, "a small file")
    with pytest.raises(DiskFullError,
                       match=f"for a larger file: .* free in {re.escape(str(tmp_path))}"):
        ensure_room(tmp_path, 101, "a larger file")


def test_a_report_plot_that_does_not_fit_is_refused_and_fails_the_report(tmp_path, monkeypatch):
    from bamnet_core.report.build import build_report
    from bamnet_core.report.record import record_of

    run = tmp_path / "full-disk-run"
    run.mkdir()
    history = [{"epoch": "1", "phase": "train", "loss": "0.7", "val_loss": "0.6"},
               {"epoch": "2", "phase": "train", "loss": "0.5", "val_loss": "0.5"}]
    nearly_full(monkeypatch, "full-disk-run")
    with pytest.raises(DiskFullError, match="no space left on device for the plot"):
        build_report(replace(record_of(run), history=history))
    assert not list(run.rglob("*.png"))
