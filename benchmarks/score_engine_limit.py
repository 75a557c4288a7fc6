"""``bamnet score`` against the engine limit: I (inference alone), D (decoding alone), and the
rate the two could reach together on a CPU, where they share the cores: 1 / (1/I + 1/D).

    PYTHONPATH=.:plugins python benchmarks/score_engine_limit.py [MODEL.onnx] [--data DIR] \
        [--images 128] [--batch-size 32] [--repeats 7]

Without MODEL, an untrained small CNN at 128 px (the decode-bound case) is exported first.

I is onnxruntime ``session.run`` on preprocessed images already in memory, at the batch
size; D is decode + preprocess alone on a pool of one thread per core; bamnet's rate is
``Scorer.score_stream`` end to end over the same files (the session opened beforehand,
as in ``bamnet score``). Real JPEGs from the data folder.

The three are measured in rounds, interleaved (D, I, bamnet, then the order turned),
so a change in the machine's load touches all three alike; each round gives its own
limit and ratio. Printed: each rate's median over ``--repeats`` rounds with its range,
and the ratio's median with its range. The target: bamnet at least 0.9x the limit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_data import add_data_argument, data_folder  # noqa: E402
from fake_run import real_images  # noqa: E402

from bamnet_core._util.threads import default_workers  # noqa: E402
from bamnet_core.score.inputs import load_with_uids  # noqa: E402
from bamnet_core.score.scorer import Scorer  # noqa: E402


def interleaved_rates(fns: dict[str, Callable[[], object]], images: int,
                      repeats: int) -> dict[str, list[float]]:
    """Images/s of each ``fns`` entry in each of ``repeats`` rounds, the order turned
    every round (after one warm-up of each)."""
    for fn in fns.values():
        fn()
    names, rates = list(fns), {name: [] for name in fns}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            fns[name]()
            rates[name].append(images / (time.perf_counter() - start))
    return rates


def _spread(values: list[float], digits: int = 1) -> str:
    """A median and its range, as ``median (low-high)``."""
    return (f"{statistics.median(values):8.{digits}f} ({min(values):.{digits}f}"
            f"-{max(values):.{digits}f})")


def small_cnn_model(folder: Path, files: list[str], size: int = 128) -> str:
    """Export an untrained small CNN (``size`` px, grayscale) through the real export path."""
    from fake_run import make_run

    from bamnet_core.experiment.export_stage import carried_facts
    from bamnet_core.export.onnx_export import export_onnx
    from bamnet_core.imaging.preprocess import PreprocessSpec
    from bamnet_core.train.backend import import_keras
    from bamnet_paper.backbones import SmallCNN

    import_keras()
    spec = PreprocessSpec(size=size, channels=1)
    model = SmallCNN().build(spec.input_shape, 2)
    pairs = [(f, ("normal", "covid")[i % 2]) for i, f in enumerate(files[:32])]
    run = make_run(folder / "run", model, spec, pairs[::2], pairs[1::2])
    return str(export_onnx(run, carried=carried_facts(run)).model_path)


def main() -> None:
    """Measure I, D and bamnet's rate on the same files; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    add_data_argument(parser)
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if args.repeats < 1 or args.images < 1 or args.batch_size < 1:
        parser.error("--repeats, --images and --batch-size must be at least 1")
    files = [p for p, _ in real_images(str(data_folder(args.data)),
                                       per_class=args.images // 2 + 1)][:args.images]
    if args.model is None:
        tmp = tempfile.TemporaryDirectory(prefix="bamnet-bench-")
        args.model = small_cnn_model(Path(tmp.name), files)
    scorer = Scorer(args.model, provider="cpu")
    spec, cores = scorer.info.spec, default_workers()
    name = scorer.session.get_inputs()[0].name
    with ThreadPoolExecutor(cores) as pool:
        def decode() -> list[np.ndarray]:
            return list(pool.map(lambda f: load_with_uids(f, spec, uids=False)[0], files))
        x = np.stack(decode())
        batches = [x[i:i + args.batch_size] for i in range(0, len(x), args.batch_size)]
        rates = interleaved_rates({
            "D": decode,
            "I": lambda: [scorer.session.run(None, {name: b}) for b in batches],
            "bamnet": lambda: [r for b in scorer.score_stream(files, batch_size=args.batch_size)
                               for r in b]}, len(files), args.repeats)
    limits = [1 / (1 / i + 1 / d) for i, d in zip(rates["I"], rates["D"], strict=True)]
    ratios = [b / lim for b, lim in zip(rates["bamnet"], limits, strict=True)]
    print(f"{Path(args.model).name} ({scorer.variant}), {len(files)} real images, "
          f"batch {args.batch_size}, {cores} cores, {args.repeats} interleaved rounds: "
          "median (range)")
    print(f"I (inference alone)   {_spread(rates['I'])} img/s")
    print(f"D (decode alone)      {_spread(rates['D'])} img/s")
    print(f"limit 1/(1/I+1/D)     {_spread(limits)} img/s")
    print(f"bamnet score_stream   {_spread(rates['bamnet'])} img/s")
    print(f"ratio                 {_spread(ratios, 2)}x (each round against its own limit)")

if __name__ == "__main__":
    main()
