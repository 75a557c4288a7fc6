"""Scoring a PACS export: DICOM files named without a suffix are found in folders."""

from __future__ import annotations

import os
from pathlib import Path

from dicom_fixtures import make_dataset, phantom, save

from bamnet_core.score.discovery import iter_image_paths


def test_suffixless_and_uid_named_dicom_files_are_found(tmp_path: Path) -> None:
    root = tmp_path / "export"
    found = [save(make_dataset(phantom(1, 16)), root / "IM0001"),
             save(make_dataset(phantom(2, 16)), root / "series" / "1.2.840.113619.2.55.7")]
    (root / "README").write_text("not an image")
    (root / "notes.123").write_bytes(b"\0" * 200)
    (root / "report.txt").write_bytes(b"\0" * 128 + b"DICM")  # a suffix that is not an image's
    os.mkfifo(root / "IM0002")  # never opened for reading: no hang
    listed = sorted(str(p) for p in iter_image_paths([root]))
    assert listed == sorted(os.path.realpath(p) for p in found)
