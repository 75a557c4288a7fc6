"""A real 2 MB tmpfs fills while the DCGAN saves its checkpoint: one ``Error:`` line, no crash.

Before, ``bamnet run quickstart-gan`` on such a disk died of a segmentation
fault (exit 139) inside h5py, after "No space left on device". Mounting a
tmpfs needs root (or a user namespace that allows it); where it cannot be
mounted the test is skipped, and ``test_free_space.py`` covers the same
checks with the free space the helper reads replaced.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bamnet_core.runs import layout

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
BAMNET = [sys.executable, "-c", "from bamnet_core.cli import main; main()"]


@pytest.fixture
def small_tmpfs(tmp_path):
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    tried = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                           capture_output=True, text=True)
    if tried.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {tried.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_the_gan_checkpoint_on_a_full_tmpfs_is_one_error_line(small_tmpfs):
    proc = subprocess.run(
        [*BAMNET, "run", "quickstart-gan", "--output-dir", str(small_tmpfs),
         "--set", "generator.epochs=5", "--set", "generator.checkpoint_every=5",
         "--set", "generator.sample_every=5", "--set", "train.epochs=1"],
        env=ENV, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 1, proc.stderr[-3000:]
    errors = [x for x in proc.stderr.splitlines() if x.startswith("Error:")]
    assert len(errors) == 1, proc.stderr[-3000:]
    run = next(small_tmpfs.iterdir())
    assert errors[0].startswith("Error: no space left on device for the GAN checkpoint")
    assert f"free in {run / layout.GENERATOR}" in errors[0]
    assert f"continue with: bamnet resume {run}" in proc.stderr
    assert "unexpected" not in proc.stderr and "Segmentation" not in proc.stderr
    meta = json.loads((run / layout.META).read_text())
    assert meta["status"] == "failed" and "no space left" in meta["error"]
    assert not list(run.rglob("*.h5"))  # refused before h5py wrote a byte
