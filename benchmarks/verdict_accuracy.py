"""How often is the verdict right? Run every known-answer case and print expected against got.

Each case (``bamnet_paper.known_answers.CASES``) is a small dataset whose
right reading is fixed by how it was drawn; this runs ``bamnet run CONFIG --json``
on each and prints the reading it got and the evidence lines behind it.

    python benchmarks/verdict_accuracy.py [--only NAME ...] [--seed N] [--keep DIR] [--tree DIR]

``--tree`` runs bamnet from another checkout (e.g. main before a change) on the same
datasets, to compare the verdicts.

Prints one row per case and ``N of M right``. Each case takes about 30-90 s on
two CPU cores.
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

from bamnet_paper.known_answers import CASES, Case, write_config, write_dataset


def run_case(case: Case, root: Path, seed: int, tree: Path | None = None) -> dict:
    """Run one case; its reading, the evidence levels and the wall time."""
    manifest = write_dataset(root / "data", case.kind, patients=case.patients,
                             per_patient=case.per_patient, seed=seed)
    config = write_config(root, manifest, name=case.kind, by=case.by, epochs=case.epochs)
    sets = [arg for override in case.overrides for arg in ("--set", override)]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bamnet_core", "run", str(config), "--json",
                           "--seed", str(seed), "--output-dir", str(root / "runs"), *sets],
                          capture_output=True, text=True,
                          cwd=root,  # -m puts the working folder first on the path: not a checkout
                          env={**os.environ, "PYTHONPATH": f"{tree}:{tree / 'plugins'}"}
                          if tree else None)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 4):  # 4: an evaluator failed, the verdict still stands
        tail = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        return {"got": f"run failed: {tail}", "lines": "", "seconds": seconds}
    verdict = json.loads(done.stdout).get("verdict") or {}
    lines = ", ".join(f"{e['key']} {e['level']}" for e in verdict.get("evidence", [])
                      if e["level"] != "info")
    return {"got": verdict.get("reading", "(no verdict)"), "lines": lines, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="case names (default: every case)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the datasets and runs here")
    parser.add_argument("--tree", type=Path, help="run bamnet from this checkout")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c.name in args.only]
    right = 0
    print("| case | expected | got | right | counted lines | seconds |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bamnet-verdict-") as scratch:
        base = args.keep or Path(scratch)
        for n, case in enumerate(cases):
            found = run_case(case, base / f"{n:02d}-{case.kind}", args.seed,
                             args.tree.resolve() if args.tree else None)
            ok = found["got"] == case.expected
            right += ok
            print(f"| {case.name} | {case.expected} | {found['got']} | {'yes' if ok else 'NO'} "
                  f"| {found['lines']} | {found['seconds']:.0f} |", flush=True)
    print(f"\n{right} of {len(cases)} right")


if __name__ == "__main__":
    main()
