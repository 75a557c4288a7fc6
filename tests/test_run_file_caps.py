"""A run file far over its size cap is refused at once, with memory that stays small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bamnet_testing import TINY_CONFIG

from bamnet_core._util.capped import size_text
from bamnet_core.errors import RunError
from bamnet_core.runs import layout
from bamnet_core.runs.size_caps import CAPS, read_capped

HUGE = 2 * 10**9  # sparse: no disk space, but 2 GB to whoever reads it whole
# the peak a refusal may reach: `bamnet resume` has TensorFlow loaded (about 860 MiB) before
# it reads the run folder; reading the file whole would add 2 GB and more
PEAK_MIB = {"report": 600, "resume": 1200}

MEASURED = """\
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "bamnet_core", *sys.argv[1:]],
                      capture_output=True, text=True)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(done.returncode, peak_kib)
sys.stderr.write(done.stderr)
"""


def run_folder(tmp_path: Path, huge: str) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / layout.CONFIG).write_text(TINY_CONFIG, encoding="utf-8")
    (run / layout.META).write_text(json.dumps({"schema_version": 1}), encoding="utf-8")
    with open(run / huge, "wb") as fh:
        fh.write(b"{")
    os.truncate(run / huge, HUGE)
    return run


@pytest.mark.parametrize("huge", [layout.META, layout.CONFIG])
@pytest.mark.parametrize("command", ["report", "resume"])
def test_a_huge_run_file_is_refused_in_one_line_with_small_memory(tmp_path, huge, command):
    run = run_folder(tmp_path, huge)
    done = subprocess.run([sys.executable, "-c", MEASURED, command, str(run)],
                          capture_output=True, text=True, timeout=300)
    code, peak_kib = map(int, done.stdout.split())
    assert code == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert lines == [f"Error: {run / huge} is 1.9 GiB, over the {size_text(CAPS[huge])} a "
                     f"{huge} may hold"], done.stderr
    assert peak_kib < PEAK_MIB[command] * 1024, f"peak RSS {peak_kib} KiB"


def test_a_file_at_its_cap_is_read_and_one_byte_more_is_not(tmp_path):
    path = tmp_path / layout.CONFIG
    path.write_bytes(b"#" * CAPS[layout.CONFIG])
    assert len(read_capped(path, CAPS[layout.CONFIG])) == CAPS[layout.CONFIG]
    path.write_bytes(b"#" * (CAPS[layout.CONFIG] + 1))
    with pytest.raises(RunError, match=f"over the 1 MiB a {layout.CONFIG} may hold"):
        read_capped(path, CAPS[layout.CONFIG])
