"""Wall time of ``bamnet score`` on one image vs ``python -c "import tensorflow"``.

Run with ``PYTHONPATH=.:plugins python benchmarks/bench_score_startup.py``.
Uses a small CNN (untrained) exported through the real export path.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fake_run import make_run, synthetic_images  # noqa: E402

from bamnet_core.export.onnx_export import export_onnx  # noqa: E402
from bamnet_core.imaging.preprocess import PreprocessSpec  # noqa: E402
from bamnet_core.train.backend import import_keras  # noqa: E402
from plugins.bamnet_paper.backbones import SmallCNN  # noqa: E402


def wall(cmd: list[str], repeats: int = 5) -> tuple[float, float]:
    """Median and min wall time of ``cmd`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    import_keras()
    spec = PreprocessSpec(size=64, channels=1)
    with tempfile.TemporaryDirectory(prefix="bamnet-bench-") as tmp:
        pairs = synthetic_images(Path(tmp) / "img", 24)
        model = SmallCNN(filters=[8, 16], dense=16).build(spec.input_shape, 2)
        run = make_run(Path(tmp) / "run", model, spec, pairs[:12], pairs[12:])
        result = export_onnx(run)
        one = pairs[0][0]
        score = [sys.executable, "-m", "bamnet_core", "score", str(result.model_path), one,
                 "--json"]
        med, best = wall(score, 5)
        print(f"bamnet score, 1 image (stdout): median {med:.3f} s, min {best:.3f} s")
        med_tf, best_tf = wall([sys.executable, "-c", "import tensorflow"], 5)
        print(f"python -c 'import tensorflow':  median {med_tf:.3f} s, min {best_tf:.3f} s")
        med_py, best_py = wall([sys.executable, "-c", "pass"], 5)
        print(f"python -c pass:                  median {med_py:.3f} s, min {best_py:.3f} s")


if __name__ == "__main__":
    main()
