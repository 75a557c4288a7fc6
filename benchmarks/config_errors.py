"""How fast a bad config value fails: `bamnet run ... --set <bad value>`, as a user runs it.

Prints the wall time of each case (a whole `bamnet` process, start-up included) and checks that
no run folder was created. The target is under 2 s per case on 2 CPU cores.

    python benchmarks/config_errors.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = [
    ["run", "quickstart", "--set", "backbone.dropout=1.5"],
    ["run", "quickstart", "--set", "train.optimizer.lr=-1"],
    ["run", "quickstart", "--seed", "-1"],
    ["run", "quickstart", "--set", "evaluate.evaluators=[\"nope\"]"],
    ["run", "paper-config", "--set", "data.path=/nonexistent.csv", "--set", "train.epoch=3"],
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bamnet = shutil.which("bamnet") or str(Path(sys.executable).with_name("bamnet"))
    worst = 0.0
    for case in CASES:
        times = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                done = subprocess.run([bamnet, *case, "--output-dir", out], capture_output=True,
                                      text=True, check=False)
                times.append(time.perf_counter() - start)
                assert done.returncode == 1, done.stderr
                assert not any(Path(out).iterdir()), "a run folder was created"
        best, median = min(times), sorted(times)[len(times) // 2]
        worst = max(worst, median)
        error = done.stderr.strip().splitlines()[0][:90]
        print(f"{median:6.2f} s median ({best:.2f} s best)  {' '.join(case[:4])}\n"
              f"         {error}")
    print(f"slowest median: {worst:.2f} s (target < 2 s); no run folder created")


if __name__ == "__main__":
    main()
