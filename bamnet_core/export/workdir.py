"""A private folder for an export's intermediate files, outside the run folder.

Every file an export makes (the fp32 model, the pre-processed and quantized
graphs, the variants) is built and checked here; only files that passed
their gates are copied to their final names, each with an atomic rename.
So an export killed at any moment, even with SIGKILL, leaves nothing in the
run folder; the folder it leaves in bamnet's cache (named with the process
id) is removed by the next export once that process is gone.
"""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._util import atomic
from .._util.cachedir import cache_dir
from .._util.diskspace import check_free_space

PREFIX = "export-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_stale(root: Path) -> list[Path]:
    """Remove work folders of exports whose process is gone; return them."""
    removed = []
    for folder in root.glob(f"{PREFIX}*"):
        try:
            pid = int(folder.name[len(PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def export_workdir() -> Iterator[Path]:
    """A fresh folder under ``$BAMNET_CACHE_DIR/export-work``, removed afterwards."""
    root = cache_dir("export-work")
    root.mkdir(parents=True, exist_ok=True)
    sweep_stale(root)
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system.

    Converting with TensorFlow and running onnxruntime sessions leave large
    freed blocks in the C heap; returning them before the next stage keeps
    the export's peak the peak of one stage, not their sum.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def write_model(path: Path, proto: Any) -> None:
    """Write an ONNX ``proto`` to ``path`` in the work folder, its exact size checked first."""
    check_free_space(path.parent, proto.ByteSize(), f"the ONNX model {path.name}")
    path.write_bytes(proto.SerializeToString())


def publish(source: Path, target: Path) -> None:
    """Copy a checked file from the work folder to its final name, atomically.

    The target's disk is checked for the file's size first, so a full disk is one
    error naming the target, before a partial copy.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    check_free_space(target.parent, source.stat().st_size, str(target))
    with atomic.atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
