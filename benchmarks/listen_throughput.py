"""Images per second: ``bamnet listen`` fed over loopback vs ``bamnet score`` on the same files.

    python benchmarks/listen_throughput.py [--images 300] [--size 512] [--model M.onnx]

Makes ``--images`` DICOM chest phantoms (explicit VR little endian, 12-bit,
``--size`` a side), then

- ``bamnet score MODEL FOLDER -o rows.csv --sr DIR``: its own timing (``--json``,
  model loading excluded);
- ``bamnet listen`` (a real process, ready before the clock starts): one pynetdicom
  sender C-STOREs every file over 127.0.0.1; the clock stops when the last row is
  written; with ``--send-sr`` also when the last SR has reached a second Storage SCP.

Both write rows and an SR per image. The model is ``--model`` (a bamnet ONNX export)
or a tiny one made here (a flatten and a matrix product: then decoding, networking and
SR writing are all there is to measure). Prints each figure and the ratio listen/score;
the target is at least 0.8.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dicom_fixtures import make_dataset, patient_tags, phantom, save  # noqa: E402
from dicom_network import ROOT, Listener, SrReceiver, free_port, send, wait_for  # noqa: E402
from onnx_fixtures import write_tiny_model  # noqa: E402


def make_files(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` 12-bit DX phantoms of ``size`` pixels a side, ten patients."""
    return [save(make_dataset(phantom(i, size), tags=patient_tags(i % 10, sex="F", age=40,
                                                                  study=i % 10)),
                 folder / f"img{i:05d}.dcm") for i in range(count)]


def rows_in(path: Path) -> int:
    """Rows written so far (the header excluded)."""
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        return max(0, sum(1 for _ in fh) - 1)


def score_rate(model: Path, folder: Path, work: Path) -> float:
    """``bamnet score --sr``'s own images/s on ``folder``."""
    result = subprocess.run(
        [sys.executable, "-m", "bamnet_core", "score", str(model), str(folder), "-o",
         str(work / "score.csv"), "--sr", str(work / "score-sr"), "--provider", "cpu",
         "--json"], capture_output=True, text=True, check=False, cwd=ROOT)
    if result.returncode not in (0, 3):
        raise SystemExit(result.stderr)
    return json.loads(result.stdout)["images_per_s"]


def listen_rate(model: Path, files: list[Path], work: Path, send_back: bool) -> float:
    """Images/s from the first C-STORE to the last row (and, with ``send_back``, the last
    SR received)."""
    out, port = work / f"listen-{send_back}.csv", free_port()
    receiver = SrReceiver(work / f"pacs-{send_back}") if send_back else None
    extra = ["--send-sr", receiver.address] if receiver else []
    listener = Listener(model, out, port, *extra)
    try:
        listener.wait_ready()
        start = time.perf_counter()
        status = send(files, port)
        refused = [p.name for p, s in status.items() if s != 0]
        if refused:
            raise SystemExit(f"{len(refused)} files were not accepted (first {refused[0]}, "
                             f"{status[files[0]]}):\n{listener.stderr[-3000:]}")
        wait_for(lambda: rows_in(out) >= len(files), timeout=600, what="rows")
        if receiver is not None:
            wait_for(lambda: len(receiver.received()) >= len(files), timeout=600,
                     what="SRs")
        return len(files) / (time.perf_counter() - start)
    finally:
        listener.terminate()
        if receiver is not None:
            receiver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = args.model or write_tiny_model(work / "tiny.onnx", size=64)
        files = make_files(work / "images", args.images, args.size)
        score = score_rate(model, work / "images", work)
        listen = listen_rate(model, files, work, send_back=False)
        back = listen_rate(model, files, work, send_back=True)
    print(f"{args.images} images, {args.size} px, model {args.model or 'tiny (made here)'}")
    print(f"bamnet score --sr:             {score:7.1f} images/s")
    print(f"bamnet listen (rows + SRs):    {listen:7.1f} images/s  ({listen / score:.2f}x)")
    print(f"bamnet listen --send-sr:       {back:7.1f} images/s  ({back / score:.2f}x)")


if __name__ == "__main__":
    main()
