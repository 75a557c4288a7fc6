"""What run integrity costs: hashing a VGG16-sized model file, and checking a run folder.

    python benchmarks/run_integrity_cost.py [--mb 528] [--repeat 3] [--run RUN_DIR]

Writes a file of ``--mb`` random megabytes (default 528, the size of the paper's
VGG16 ``model.keras``) into a temporary folder, in chunks, then:

- hashes it with :func:`bamnet_core._util.digest.file_digest` (``--repeat`` times;
  the file is in the page cache after it is written, so this is the hashing cost,
  not the disk's), printing seconds, MB/s and how much the peak RSS grew;
- records it in a run folder's ``integrity.json`` (:meth:`RunFolder.record`), then
  checks it again through the same folder (answered from the digest cache: a
  command hashes a file once) and through a fresh one (a second command);

and, with ``--run``, hashes on a real run folder what each command checks before it
reads: the files ``bamnet resume`` keeps (all it records), ``report``, ``evaluate`` and
``export`` read (:func:`bamnet_core.runs.integrity.verify_run` when the run has a
record). The temporary file is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from bamnet_core._util.digest import CHUNK, file_digest
from bamnet_core.runs.folder import RunFolder
from bamnet_core.runs.integrity import READ_BACK, recorded_names, refuse_changed, verify_run
from bamnet_core.runs.integrity_file import IntegrityFile
from bamnet_core.runs.layout import INTEGRITY, MODEL


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_random(path: Path, mb: int) -> None:
    """``mb`` megabytes of random bytes, written a chunk at a time."""
    with open(path, "wb") as fh:
        left = mb * 1_000_000
        while left:
            n = min(left, 8 * CHUNK)
            fh.write(os.urandom(n))
            left -= n


def timed(call) -> tuple[float, object]:
    """Seconds one call takes, and what it returned."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=528)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run", type=Path, default=None, help="also verify this run folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bamnet-integrity-") as tmp:
        folder = RunFolder(tmp)
        path = folder.file(MODEL)
        write_random(path, args.mb)
        size = path.stat().st_size
        print(f"file: {size / 1e6:.0f} MB of random bytes in {tmp}")
        before = peak_rss_mb()
        times = [timed(lambda: file_digest(path))[0] for _ in range(args.repeat)]
        best = min(times)
        print(f"file_digest: best {best:.2f} s of {args.repeat} ({size / 1e6 / best:.0f} MB/s); "
              f"peak RSS grew {peak_rss_mb() - before:.1f} MB (chunks of {CHUNK >> 20} MiB)")
        seconds, _ = timed(lambda: folder.record("train", [MODEL]))
        print(f"record (hash + write {INTEGRITY}): {seconds:.2f} s")
        seconds, _ = timed(lambda: refuse_changed(folder, [MODEL]))
        print(f"check, same command (digest cache): {seconds * 1000:.1f} ms")
        seconds, _ = timed(lambda: refuse_changed(RunFolder(tmp), [MODEL]))
        print(f"check, a new command (hashed again): {seconds:.2f} s")
    if args.run is not None:
        per_command(args.run)


def per_command(folder: Path) -> None:
    """Seconds each command spends hashing the files of ``folder`` it checks."""
    from bamnet_core.experiment.external import EVALUATE_READS
    from bamnet_core.export.onnx_export import EXPORT_READS
    from bamnet_core.report.record import REPORT_READS

    run = RunFolder(folder)
    if run.read_record() is not None:
        seconds, checked = timed(lambda: verify_run(RunFolder(folder)))
        print(f"verify_run: {len(checked.files)} files, {seconds:.2f} s, ok={checked.ok}")
    empty = IntegrityFile()
    for command, names in (("resume", READ_BACK), ("report", REPORT_READS),
                           ("evaluate", EVALUATE_READS), ("export", EXPORT_READS)):
        files = [n for n in recorded_names(run, empty, names) if run.file(n).is_file()]
        fresh = RunFolder(folder)
        seconds, _ = timed(lambda fresh=fresh, files=files: [fresh.digest(n) for n in files])
        size = sum(run.file(n).stat().st_size for n in files)
        print(f"{command}: {len(files)} files, {size / 1e6:.1f} MB hashed in {seconds:.3f} s")


if __name__ == "__main__":
    main()
