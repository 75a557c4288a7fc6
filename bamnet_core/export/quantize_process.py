"""One int8 quantization attempt in a child process, so its memory goes when it ends.

onnxruntime's quantizer (calibration sessions, histograms, the graphs it
copies) leaves memory behind that ``gc`` and ``malloc_trim`` do not return:
with VGG16 each failed recipe raised the export's peak further. Each attempt
therefore runs in a fresh ``python -m bamnet_core.export.quantize_process``;
when it exits, everything it held is the system's again, and the export's peak
is that of one attempt whatever the number of recipes tried.

The parent writes the calibration batches to ``.npy`` files in the work folder
(one batch in memory at a time); the child reads them one at a time, sends its
progress as JSON lines on stdout and ends with the settings it used, or with
its error.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .. import errors
from .._util.progress import ProgressCallback, silent
from .child import die_with_parent, run_reporting_child
from .quantize import INT8_RECIPES, CalibrationImages, Int8Recipe, quantize_int8


def quantize_apart(fp32_path: Path, out_path: Path, calibration: CalibrationImages,
                   input_name: str, recipe: Int8Recipe = INT8_RECIPES[0], *,
                   progress: ProgressCallback = silent) -> dict[str, Any]:
    """:func:`~.quantize.quantize_int8` in a child process; returns the settings it used.

    :raises RunError: the child failed (its last line of stderr, or its error, says why).
    """
    folder = Path(tempfile.mkdtemp(prefix="calibration-", dir=out_path.parent))
    try:
        for i in range(calibration.batches):
            np.save(folder / f"{i}.npy", np.ascontiguousarray(calibration.read(i), np.float32))
        job = {"parent": os.getpid(), "fp32": str(fp32_path), "out": str(out_path),
               "calibration": str(folder), "batches": calibration.batches, "input": input_name,
               "recipe": asdict(recipe)}
        return _run_child(job, progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_child(job: dict[str, Any], progress: ProgressCallback) -> dict[str, Any]:
    outcome = run_reporting_child([sys.executable, "-m", __name__, json.dumps(job)], progress)
    result, recipe = outcome.final, job["recipe"]["name"]
    if result is None or not ("settings" in result or "error" in result):
        raise errors.RunError(f"int8 quantization ({recipe}) ended with exit code "
                              f"{outcome.returncode} and no result: {outcome.last_error_line}",
                              hint="export without --int8, or with more memory free")
    if "error" in result:
        failed = errors.RunError(f"int8 quantization ({recipe}) failed: {result['error']}",
                                 hint="export without --int8")
        if result.get("traceback"):  # BAMNET_DEBUG=1 shows where the child failed, not only here
            failed.add_note(f"in the quantizer child process:\n{result['traceback']}")
        raise failed
    return dict(result["settings"])


def _child(job_json: str) -> int:
    """The child process: quantize as ``job_json`` says, reporting on stdout as JSON lines."""
    stdout = sys.stdout  # the quantizer redirects sys.stdout while it runs

    def send(message: dict[str, Any]) -> None:
        stdout.write(json.dumps(message) + "\n")
        stdout.flush()

    job = json.loads(job_json)
    die_with_parent(int(job["parent"]))
    folder = Path(job["calibration"])
    images = CalibrationImages(int(job["batches"]), lambda i: np.load(folder / f"{i}.npy"))
    try:
        settings = quantize_int8(Path(job["fp32"]), Path(job["out"]), images, job["input"],
                                 recipe=Int8Recipe(**job["recipe"]),
                                 progress=lambda e: send({"progress": asdict(e)}))
    except Exception as exc:  # reported to the parent, which raises one clear error
        send({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
        return 1
    send({"settings": settings})
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
