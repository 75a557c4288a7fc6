"""Validation accuracy of `bamnet run quickstart` for seeds 0-9, as a user runs it.

Each seed is one `bamnet run quickstart --seed N --json` in a fresh process
(so each pays the TensorFlow import, as a user does), in a temporary output
folder. Prints one line per seed (validation accuracy, the epoch model.keras
comes from, wall seconds) and the minimum. Extra arguments go to `bamnet run`
(e.g. `--set train.epochs=10`) to try preset changes. Not a test.

    PYTHONPATH=.:plugins python benchmarks/quickstart_seeds.py
    PYTHONPATH=.:plugins python benchmarks/quickstart_seeds.py --seeds 0 1 -- --set train.epochs=9
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

from bamnet_core.runs import layout
from bamnet_core.runs.files import MetaFile, MetricsFile
from bamnet_core.runs.folder import RunFolder


def run_seed(seed: int, out: Path, extra: list[str]) -> dict:
    """One quickstart run; its validation accuracy, model epoch and wall time."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bamnet_core", "run", "quickstart", "--seed",
                           str(seed), "-o", str(out), "--json", *extra],
                          capture_output=True, text=True, env=os.environ.copy())
    seconds = time.perf_counter() - start
    if proc.returncode:
        return {"seed": seed, "error": proc.stderr.strip().splitlines()[-1:], "seconds": seconds}
    run = RunFolder(json.loads(proc.stdout)["run_dir"])
    meta = run.read_model(layout.META, MetaFile)
    val = run.read_model(layout.METRICS, MetricsFile).results("val", "classification") or {}
    return {"seed": seed, "val_accuracy": val.get("accuracy"), "val_auc": val.get("roc_auc"),
            "model_epoch": (meta.training or {}).get("model_epoch"),
            "train_seconds": meta.timings_s.get("train"), "seconds": seconds}


def main() -> None:
    """Run the seeds and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("extra", nargs="*", help="arguments for `bamnet run` (after --)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bamnet-qs-") as tmp:
        for seed in args.seeds:
            row = run_seed(seed, Path(tmp), args.extra)
            rows.append(row)
            if "error" in row:
                print(f"seed {seed}: failed: {row['error']}", flush=True)
                continue
            print(f"seed {seed}: val_accuracy {row['val_accuracy']:.3f}  "
                  f"val_auc {row['val_auc']:.3f}  model_epoch {row['model_epoch']}  "
                  f"train {row['train_seconds']:.0f} s  wall {row['seconds']:.0f} s", flush=True)
    accuracies = [r["val_accuracy"] for r in rows if "val_accuracy" in r]
    if accuracies:
        print(f"min val_accuracy {min(accuracies):.3f} over {len(accuracies)} seeds; "
              f"max wall {max(r['seconds'] for r in rows):.0f} s")


if __name__ == "__main__":
    main()
