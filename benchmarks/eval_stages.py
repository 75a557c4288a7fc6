"""Stage times of a real-data run, train against evaluate: where users wait after training.

    PYTHONPATH=.:plugins python benchmarks/eval_stages.py [--data DIR] [--tree OTHER ...] \
        [--backbone small-cnn|vgg16] [--size 128] [--epochs 3] [--bootstrap 1000] \
        [--set KEY=VALUE ...]

Runs ``bamnet run paper-config-fixed`` on DIR/manifest.csv (the 1,082 real chest
X-rays by default) up to the evaluate stage, generator off, deep audit off, in a
fresh process per tree (this checkout, then each ``--tree``, e.g. main before a
change), and prints each stage's seconds from ``meta.json``. VGG16 runs with
``weights = "none"`` (offline) and the feature cache. The target: evaluate at most
half of train, or 20 s, whichever is larger.
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
from bench_data import ROOT, add_data_argument, data_folder  # noqa: E402

from bamnet_core.runs import layout  # noqa: E402

STAGES = ("data", "decode", "audit", "train", "evaluate")


def run_once(tree: Path, manifest: Path, args: argparse.Namespace, out: Path) -> dict:
    """One ``bamnet run`` of ``tree``; its stage timings and wall time."""
    backbone = ('backbone={name = "vgg16", weights = "none", head = "paper-best", '
                'freeze = "all"}' if args.backbone == "vgg16"
                else 'backbone={name = "small-cnn"}')
    cmd = [sys.executable, "-m", "bamnet_core", "run", "paper-config-fixed",
           "--data", str(manifest), "--set", backbone,
           "--set", f"preprocess.size={args.size}", "--set", f"train.epochs={args.epochs}",
           "--set", "generator.enabled=false", "--set", "audit.label_issues=false",
           "--set", "audit.outliers=false", "--set", f"evaluate.bootstrap={args.bootstrap}",
           "--until", "evaluate", "--json", "--output-dir", str(out)]
    for override in args.set:  # e.g. evaluate.options.occlusion.max_images=16
        cmd += ["--set", override]
    env = {**os.environ, "PYTHONPATH": f"{tree}:{tree / 'plugins'}"}
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree, check=False)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 4):
        raise SystemExit(f"{tree}: bamnet run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    meta = json.loads((run_dir / layout.META).read_text())
    return {"timings": meta.get("timings_s", {}), "wall": wall}


def main() -> None:
    """Run each tree once and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_argument(parser)
    parser.add_argument("--tree", action="append", default=[])
    parser.add_argument("--backbone", choices=("small-cnn", "vgg16"), default="small-cnn")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--set", action="append", default=[], help="one more --set for the run")
    args = parser.parse_args()
    manifest = data_folder(args.data) / "manifest.csv"
    trees = [ROOT, *(Path(t).resolve() for t in args.tree)]
    print(f"{args.backbone} at {args.size} px, {args.epochs} epochs, {manifest}")
    print(f"{'tree':<12}" + "".join(f"{s:>10}" for s in STAGES) + f"{'wall':>10}  eval/train")
    for tree in trees:
        with tempfile.TemporaryDirectory(prefix="bamnet-eval-bench-") as tmp:
            got = run_once(tree, manifest, args, Path(tmp))
        t = got["timings"]
        ratio = t.get("evaluate", 0) / t["train"] if t.get("train") else float("nan")
        print(f"{tree.name:<12}" + "".join(f"{t.get(s, float('nan')):>10.1f}" for s in STAGES)
              + f"{got['wall']:>10.1f}  {ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
