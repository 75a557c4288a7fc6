"""``bamnet score`` and :class:`Scorer`: rows, errors, exit codes, providers, no TensorFlow."""

from __future__ import annotations

import csv
import json
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from bamnet_core.errors import ImageDecodeError
from bamnet_core.runs import layout
from bamnet_core.score.discovery import iter_image_paths
from bamnet_core.score.scorer import Scorer

# -- fixture builders (kept here; tests/fixtures_images.py lives on another branch) ------------


def phantom(seed: int, size: int = 40) -> np.ndarray:
    """A small grayscale uint8 image."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size), np.uint8)
    cv2.circle(img, (size // 2, size // 2), size // 3, int(rng.integers(80, 250)), -1)
    return np.clip(img + rng.integers(0, 30, img.shape), 0, 255).astype(np.uint8)


def write_dicom(path: Path, pixels: np.ndarray | None) -> Path:
    """A minimal DICOM file; ``pixels=None`` writes one with no pixel data."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientID, ds.Modality = "TEST", "OT"
    if pixels is not None:
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = (pixels.astype(np.uint16) * 16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def png_bomb(path: Path, side: int = 100_000) -> Path:
    """A PNG whose header claims side x side pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return path


def mixed_folder(root: Path) -> tuple[list[Path], list[Path]]:
    """Good images (PNG, JPEG, 16-bit TIFF, DICOM, nested) and broken ones; returns (good, bad)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nested" / "deeper").mkdir(parents=True)
    good = []
    for i, name in enumerate(["a.png", "b.jpg", "nested/c.PNG", "nested/deeper/d.bmp"]):
        cv2.imwrite(str(root / name), phantom(i))
        good.append(root / name)
    cv2.imwrite(str(root / "e16.tif"), phantom(9).astype(np.uint16) * 257)
    good.append(root / "e16.tif")
    good.append(write_dicom(root / "f.dcm", phantom(7).astype(np.uint16)))
    bad = []
    (root / "empty.png").write_bytes(b"")
    bad.append(root / "empty.png")
    data = (root / "a.png").read_bytes()
    (root / "truncated.png").write_bytes(data[: len(data) // 2])
    bad.append(root / "truncated.png")
    jpeg = cv2.imencode(".jpg", phantom(3))[1].tobytes()
    (root / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    bad.append(root / "truncated.jpg")
    (root / "notes.png").write_text("this is not an image\n")
    bad.append(root / "notes.png")
    bad.append(png_bomb(root / "bomb.png"))
    bad.append(write_dicom(root / "no-pixels.dcm", None))
    (root / "folder.png").mkdir()  # a directory named like an image: walked, not scored
    (root / "readme.txt").write_text("ignored: not an image suffix")
    return good, bad


# -- tests ---------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_mixed_folder_scores_good_files_and_reports_bad_ones(exported_model, trained_run,
                                                            tmp_path, cli):
    good, bad = mixed_folder(tmp_path / "images")
    chosen = json.loads((trained_run / layout.METRICS).read_text())["threshold"]
    out = tmp_path / "scores.csv"
    result = cli("score", str(exported_model), str(tmp_path / "images"), "-o", str(out))
    assert result.exit_code == 3, result.stderr
    rows = {Path(r["path"]): r for r in read_csv(out)}
    assert set(rows) == set(good) | set(bad)
    for path in good:
        row = rows[path]
        assert row["error"] == "" and row["label"] in ("normal", "covid"), row
        assert abs(float(row["prob_normal"]) + float(row["prob_covid"]) - 1) < 1e-5
        # the run's own threshold, chosen on its validation split
        assert float(row["threshold"]) == chosen and len(row["model_sha256"]) == 64
    reasons = {p.name: rows[p]["error"] for p in bad}
    assert all(reasons.values()) and all(rows[p]["label"] == "" for p in bad)
    assert "empty" in reasons["empty.png"]
    assert "too large" in reasons["bomb.png"]
    assert "no pixel data" in reasons["no-pixels.dcm"]
    assert "truncated" in reasons["truncated.jpg"]
    assert f"Scored {len(good)} images, {len(bad)} failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_scored_says_so_and_gives_no_rate(exported_model, tmp_path, cli):
    missing = tmp_path / "nonexistent"
    result = cli("score", str(exported_model), str(missing), "-o", str(tmp_path / "rows.csv"))
    assert result.exit_code == 3
    assert "Nothing was scored: 1 failed" in result.stderr
    assert "img/s" not in result.stderr and "Scored 0" not in result.stderr
    assert f"{missing}: file not found" in result.stderr
    summary = cli("score", str(exported_model), str(missing), "-o", str(tmp_path / "rows2.csv"),
                  "--json")
    assert json.loads(summary.stdout)["images_per_s"] == 0.0


def test_jsonl_output_and_all_good_exit_zero(exported_model, tmp_path, cli):
    for i in range(5):
        cv2.imwrite(str(tmp_path / f"{i}.png"), phantom(i))
    out = tmp_path / "rows.jsonl"
    result = cli("score", str(exported_model), str(tmp_path), "-o", str(out), "--json",
                 "--threshold", "0.3")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["scored"] == 5 and summary["failed"] == 0
    assert summary["provider"] == "CPUExecutionProvider"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(r["path"]).name for r in rows] == [f"{i}.png" for i in range(5)]
    for r in rows:
        assert r["threshold"] == 0.3 and r["error"] is None
        assert r["label"] == ("covid" if r["probabilities"]["covid"] >= 0.3 else "normal")


def test_rows_go_to_stdout_without_output(exported_model, tmp_path, cli):
    cv2.imwrite(str(tmp_path / "x.png"), phantom(1))
    result = cli("score", str(exported_model), str(tmp_path / "x.png"))
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("path,prob_normal,prob_covid,label")
    assert len(lines) == 2 and lines[1].startswith(str(tmp_path / "x.png"))


def test_scorer_api_paths_and_arrays_agree(exported_model, tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(paths[-1]), phantom(i))
    scorer = Scorer(exported_model)
    by_path = scorer.score_paths(paths, batch_size=2)
    arrays = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]
    by_array = scorer.score_arrays([*arrays, arrays[0] / 255.0, np.full((4, 4), 7.0)],
                                   names=["0", "1", "2", "float", "bad"])
    for a, b in zip(by_path, by_array[:3], strict=True):
        assert a.label == b.label
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)
    assert by_array[3].probabilities == pytest.approx(by_array[0].probabilities, abs=1e-5)
    assert by_array[4].error and "[0, 1]" in by_array[4].error and by_array[4].label is None
    assert scorer.classes == ["normal", "covid"] and scorer.provider == "CPUExecutionProvider"


def test_scoring_imports_no_tensorflow(exported_model, tmp_path):
    cv2.imwrite(str(tmp_path / "x.png"), phantom(1))
    script = textwrap.dedent(f"""
        import json, sys
        from bamnet_core.cli import main
        try:
            main(["score", {str(exported_model)!r}, {str(tmp_path)!r},
                  "-o", {str(tmp_path / "o.csv")!r}])
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({{"code": code, "tf": "tensorflow" in sys.modules,
                          "keras": "keras" in sys.modules, "tf2onnx": "tf2onnx" in sys.modules,
                          "ray": "ray" in sys.modules}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {
        "code": 0, "tf": False, "keras": False, "tf2onnx": False, "ray": False}


def test_auto_provider_is_quiet_and_cuda_is_explained(exported_model, tmp_path):
    cv2.imwrite(str(tmp_path / "x.png"), phantom(1))
    cmd = [sys.executable, "-m", "bamnet_core", "score", str(exported_model), str(tmp_path),
           "--json", "-o"]
    auto = subprocess.run([*cmd, str(tmp_path / "a.csv")], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).parents[2])
    assert auto.returncode == 0
    assert auto.stderr == ""  # no onnxruntime complaints about missing CUDA libraries
    provider = json.loads(auto.stdout)["provider"]
    cuda = subprocess.run([*cmd, str(tmp_path / "c.csv"), "--provider", "cuda"],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[2])
    if provider == "CUDAExecutionProvider":
        assert cuda.returncode == 0
    else:
        assert cuda.returncode == 1
        assert "Error:" in cuda.stderr and "--provider cuda" in cuda.stderr
        assert "Hint:" in cuda.stderr


def test_usage_and_input_errors(exported_model, tmp_path, cli):
    result = cli("score", str(exported_model), str(tmp_path), "--resume")
    assert result.exit_code == 2 and "--output" in result.stderr
    result = cli("score", str(exported_model), str(tmp_path))
    assert result.exit_code == 1 and "no images found" in result.stderr
    result = cli("score", str(tmp_path / "missing.onnx"), str(tmp_path))
    assert result.exit_code == 1 and "not found" in result.stderr
    (tmp_path / "fake.onnx").write_bytes(b"not onnx")
    result = cli("score", str(tmp_path / "fake.onnx"), str(tmp_path))
    assert result.exit_code == 1 and "cannot load ONNX model" in result.stderr
    result = cli("score", str(exported_model), str(tmp_path / "nope.png"))
    assert result.exit_code == 3 and "file not found" in result.stdout


def test_model_without_bamnet_metadata_is_refused(exported_model, tmp_path, cli):
    import onnx

    model = onnx.load(str(exported_model))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "bare.onnx"))
    result = cli("score", str(tmp_path / "bare.onnx"), str(tmp_path))
    assert result.exit_code == 1 and "no bamnet metadata" in result.stderr


def test_discovery_streams_sorted_and_reports_missing(tmp_path):
    for name in ["b.png", "a.jpg", "z/c.dcm", "z/skip.txt", "y.PNG/inner.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "explicit.dat").write_bytes(b"x")
    found = list(iter_image_paths([tmp_path, tmp_path / "explicit.dat", tmp_path / "gone.png"]))
    names = [Path(p).relative_to(tmp_path).as_posix() for p in found[:-2]]
    assert names == ["a.jpg", "b.png", "y.PNG/inner.png", "z/c.dcm"]
    assert found[-2] == str(tmp_path / "explicit.dat")
    assert isinstance(found[-1], ImageDecodeError) and found[-1].reason == "file not found"
