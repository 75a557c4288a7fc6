"""Start-up: ``bamnet --help``, ``bamnet presets list`` and ``bamnet score`` on one real image,
against ``python -c "import tensorflow"``, each a fresh process, timed in the same run.

    PYTHONPATH=.:plugins python benchmarks/bench_score_startup.py [--data DIR] \
        [--tree OTHER_CHECKOUT ...] [--repeats 7]

The model is a small CNN (untrained) exported through the real export path. Each
``--tree`` (another checkout, e.g. main before a change) is timed beside this one
with its own ``PYTHONPATH``. Targets: score on one image at most 1.0 s and at most
0.2x ``import tensorflow``. Prints medians (and minimum) of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_data import ROOT, add_data_argument, data_folder  # noqa: E402
from fake_run import make_run, real_images  # noqa: E402


def wall(cmd: list[str], env: dict[str, str], repeats: int, cwd: Path = ROOT
         ) -> tuple[float, float]:
    """Median and min wall time of ``cmd`` over ``repeats`` runs, started in ``cwd``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    """Export a small model, then time each command in fresh processes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_argument(parser)
    parser.add_argument("--tree", action="append", default=[],
                        help="another checkout to time beside this one")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    from bamnet_core.experiment.export_stage import carried_facts
    from bamnet_core.export.onnx_export import export_onnx
    from bamnet_core.imaging.preprocess import PreprocessSpec
    from bamnet_core.train.backend import import_keras
    from bamnet_paper.backbones import SmallCNN

    import_keras()
    pairs = real_images(str(data_folder(args.data)), per_class=12)
    spec = PreprocessSpec(size=64, channels=1)
    trees = [ROOT, *(Path(t).resolve() for t in args.tree)]
    with tempfile.TemporaryDirectory(prefix="bamnet-bench-") as tmp:
        model = SmallCNN(filters=[8, 16], dense=16).build(spec.input_shape, 2)
        run = make_run(Path(tmp) / "run", model, spec, pairs[::2], pairs[1::2])
        onnx = str(export_onnx(run, carried=carried_facts(run)).model_path)
        one = pairs[0][0]
        rows = []
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": f"{tree}:{tree / 'plugins'}"}
            bamnet = [sys.executable, "-m", "bamnet_core"]
            for name, cmd in (("bamnet --help", [*bamnet, "--help"]),
                              ("bamnet presets list", [*bamnet, "presets", "list"]),
                              ("bamnet score, 1 image", [*bamnet, "score", onnx, one, "--json"])):
                # started in the tree: `python -m` puts the working directory first on the path
                rows.append((f"{name} [{tree.name}]", *wall(cmd, env, args.repeats, tree)))
        tf = wall([sys.executable, "-c", "import tensorflow"], dict(os.environ), args.repeats)
        rows.append(("python -c 'import tensorflow'", *tf))
        rows.append(("python -c pass", *wall([sys.executable, "-c", "pass"], dict(os.environ),
                                             args.repeats)))
    width = max(len(r[0]) for r in rows)
    for name, med, best in rows:
        ratio = f"  ({med / tf[0]:.2f}x import tensorflow)" if "score" in name else ""
        print(f"{name:<{width}}  median {med:.3f} s  min {best:.3f} s{ratio}")


if __name__ == "__main__":
    main()
