"""Peak RSS of ``bamnet score`` on 10,000 images vs 100 (synthetic PNGs, small CNN), for
the local engine and the Ray engine (the driver process; Ray's workers are separate).

Run with ``PYTHONPATH=.:plugins python benchmarks/bench_score_memory.py [BIG]``.
Each scoring run is its own process; peak RSS is its ``VmHWM`` (``ru_maxrss`` would
not do: Linux carries it across fork and exec, so it starts at this script's size).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fake_run import make_run, synthetic_images  # noqa: E402

from bamnet_core.experiment.export_stage import carried_facts  # noqa: E402
from bamnet_core.export.onnx_export import export_onnx  # noqa: E402
from bamnet_core.imaging.preprocess import PreprocessSpec  # noqa: E402
from bamnet_core.train.backend import import_keras  # noqa: E402
from plugins.bamnet_paper.backbones import SmallCNN  # noqa: E402

PROBE = textwrap.dedent("""
    import json, sys
    from bamnet_core.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
    print(json.dumps({"code": code, "maxrss_mib": int(hwm.split()[1]) / 1024}))
""")


def peak(model: Path, folder: Path, out: Path, *extra: str) -> tuple[float, float, int]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PROBE, "score", str(model), str(folder),
                           "-o", str(out), "--json", *extra], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    body, last = proc.stdout.rstrip("\n").rsplit("\n", 1)  # summary JSON, then the probe's line
    return json.loads(last)["maxrss_mib"], seconds, json.loads(body)["scored"]


def main() -> None:
    big = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    import_keras()
    spec = PreprocessSpec(size=64, channels=1)
    with tempfile.TemporaryDirectory(prefix="bamnet-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        small = synthetic_images(root / "small", 100, size=128)
        synthetic_images(root / "big", big, size=128)
        print(f"wrote {big + 100} synthetic 128x128 PNGs in {time.perf_counter() - t:.1f} s")
        model = SmallCNN(filters=[8, 16], dense=16).build(spec.input_shape, 2)
        run = make_run(root / "run", model, spec, small[:50], small[50:])
        model_path = export_onnx(run, carried=carried_facts(run)).model_path
        for engine in ("local", "ray"):
            peaks = {}
            for name in ("small", "big"):
                rss, seconds, scored = peak(model_path, root / name,
                                            root / f"{engine}-{name}.csv", "--engine", engine)
                peaks[name] = rss
                print(f"{engine} {name}: scored {scored} images in {seconds:.1f} s, "
                      f"peak RSS {rss:.0f} MiB")
            print(f"{engine}: peak RSS ratio big/small {peaks['big'] / peaks['small']:.3f} "
                  "(target <= 1.2)")


if __name__ == "__main__":
    main()
