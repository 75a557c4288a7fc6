"""Peak RSS of an int8 ONNX export (VGG16, 224x224) for very different numbers of
validation images: the parity gate and the calibration stream, so it stays flat.

Builds one run folder around VGG16 (keras.applications, weights=None, the
pyimagesearch head) whose splits.csv lists real chest X-rays (read in place,
never copied): up to the largest ``--val-counts`` validation images for the
gates and ``--calibration`` training images for int8 calibration. Each export
(``export_onnx(..., int8=True, parity_images=N)``, what ``bamnet export --onnx
--int8 --parity-images N`` runs) is a fresh process of the tree under test (this
checkout, then each ``--tree``, e.g. main before a change); its peak resident
memory comes from the kernel (``os.wait4`` rusage). Random weights make the int8
gate's verdict meaningless here, so degraded variants are allowed. Not a test.

``--every-recipe-fails`` adds a check no variant can pass to the int8 gate, so
every recipe is tried and fails, as with a nearly degenerate model: the case
where each attempt's memory must be gone before the next.

    PYTHONPATH=.:plugins python benchmarks/export_memory.py [--data DIR] \
        [--val-counts 64 325] [--calibration 64] [--every-recipe-fails] [--tree OTHER ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_data import ROOT, add_data_argument  # noqa: E402
from bench_score_vs_keras import vgg16_paper_head  # noqa: E402
from fake_run import make_run, real_images  # noqa: E402

from bamnet_core.imaging.preprocess import PreprocessSpec  # noqa: E402
from bamnet_core.runs import layout  # noqa: E402
from bamnet_core.train.backend import import_keras  # noqa: E402

CHILD = """
import json, os, sys
from bamnet_core.experiment.export_stage import carried_facts
from bamnet_core.export import variants
from bamnet_core.export.onnx_export import export_onnx
run, out, val, cal, fail, steps = sys.argv[1:7]

def step(event):  # the export's current step, for the sampler that attributes the peak
    if event.stage == "export":
        with open(steps + ".tmp", "w") as fh:
            fh.write(event.description)
        os.replace(steps + ".tmp", steps)

if fail == "1":  # every recipe tried and failed
    real_gate = variants.variant_gate
    def failing_gate(*args, **kwargs):
        gate = real_gate(*args, **kwargs)
        gate.add("forced_failure", 1.0, 0.0, "<=")
        return gate
    variants.variant_gate = failing_gate
result = export_onnx(run, carried=carried_facts(run), output=out, int8=True, parity_images=int(val),
                     calibration_images=int(cal), allow_degraded=True,
                     progress=step)
print(json.dumps(result.report))
"""


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants now (Linux ``/proc``); 0 if gone."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def export_peak(tree: Path, run: Path, val: int, calibration: int, out: Path,
                every_recipe_fails: bool = False) -> tuple[float, float, str, float, dict]:
    """Peak RSS (GiB) of one export in a child process: the export process's own (from
    the kernel) and its process tree's summed (the export and any process it starts,
    sampled every 50 ms), with the export step it was sampled in; its wall seconds and
    its report."""
    env = {**os.environ, "PYTHONPATH": f"{tree}:{tree / 'plugins'}"}
    start = time.perf_counter()
    peak_tree, peak_step, steps = 0, "", out / "step.txt"
    with open(out / "stderr.txt", "wb") as err, open(out / "stdout.txt", "wb") as outfile:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(run), str(out / layout.ONNX),
                                 str(val), str(calibration), str(int(every_recipe_fails)),
                                 str(steps)],
                                stdout=outfile, stderr=err, env=env, cwd=tree)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = tree_rss(proc.pid)
            if now > peak_tree:
                peak_tree = now
                peak_step = steps.read_text() if steps.exists() else "starting"
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit((out / "stderr.txt").read_text()[-2000:])
    report = json.loads((out / "stdout.txt").read_text())
    return usage.ru_maxrss / 1024**2, peak_tree / 1024**3, peak_step, seconds, report


def main() -> None:
    """Build the run, export it once per tree and validation count, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_argument(parser)
    parser.add_argument("--val-counts", type=int, nargs="+", default=[64, 325])
    parser.add_argument("--calibration", type=int, default=64)
    parser.add_argument("--every-recipe-fails", action="store_true",
                        help="fail every int8 recipe's gate, so all are tried")
    parser.add_argument("--tree", action="append", default=[])
    args = parser.parse_args()
    half = max(args.val_counts) // 2 + 1
    pairs = real_images(args.data, per_class=half + args.calibration // 2 + 1)
    by_label: dict[str, list[tuple[str, str]]] = {}
    for path, label in pairs:
        by_label.setdefault(label, []).append((path, label))
    val = [p for rows in by_label.values() for p in rows[:half]]
    train = [p for rows in by_label.values() for p in rows[half:]][:args.calibration]
    keras = import_keras()
    spec = PreprocessSpec(size=224, channels=3, scaling="vgg16")
    trees = [ROOT, *(Path(t).resolve() for t in args.tree)]
    with tempfile.TemporaryDirectory(prefix="bamnet-exportmem-") as tmp:
        run = make_run(Path(tmp) / "run", vgg16_paper_head(keras), spec, train=train, val=val)
        print(f"VGG16 224x224 (weights none), int8 export, {len(train)} calibration images",
              flush=True)
        for tree in trees:
            for count in args.val_counts:
                out = Path(tmp) / f"out-{tree.name}-{count}"
                out.mkdir()
                peak, peak_tree, peak_step, seconds, report = export_peak(
                    tree, run, count, args.calibration, out, args.every_recipe_fails)
                attempts = report["models"]["int8"].get("attempts", [{"passed": True}])
                print(f"{tree.name:<14} validation images {report['validation_images']:4d}: "
                      f"peak RSS {peak:.2f} GiB (export process), {peak_tree:.2f} GiB (with "
                      f"the processes it starts; in step '{peak_step}'), {seconds:.0f} s, "
                      f"int8 attempts {len(attempts)}, "
                      f"{sum(not a['passed'] for a in attempts)} failed",
                      flush=True)


if __name__ == "__main__":
    main()
