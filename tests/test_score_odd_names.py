"""Any name a Linux file may hold round-trips through the score CSV and its resume."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import cv2
import numpy as np
from onnx_fixtures import write_tiny_model

from bamnet_core._util.csv_text import csv_line

CONTROL = [chr(c) for c in [*range(1, 32), 127]]


def odd_names() -> list[str]:
    """One name per control character, plus quotes, commas and all of them at once."""
    names = [f"img{c}{n}.png" for n, c in enumerate(CONTROL)]
    names += ['quo"te.png', "com,ma.png", '"both",\r\n.png', " lead space.png",
              "all" + "".join(CONTROL) + '",.png']
    return names


def rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8", "surrogateescape"),
                                       newline=""), strict=True))


def test_every_control_character_quote_and_comma_round_trips_through_resume(tmp_path, cli):
    model = write_tiny_model(tmp_path / "m.onnx")
    folder = tmp_path / "imgs"
    folder.mkdir()
    image = cv2.imencode(".png", np.full((12, 12), 90, np.uint8))[1].tobytes()
    names = odd_names()
    for name in names[:-3]:
        (folder / name).write_bytes(image)
    out = tmp_path / "s.csv"
    first = cli("score", str(model), str(folder), "-o", str(out))
    assert first.exit_code == 0, first.stderr
    before = rows(out)
    assert {Path(r[0]).name for r in before[1:]} == set(names[:-3])

    for name in names[-3:]:  # found only by the resumed run
        (folder / name).write_bytes(image)
    resumed = cli("score", str(model), str(folder), "-o", str(out), "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    after = rows(out)
    assert after[:len(before)] == before  # the rows written first are kept as they were
    paths = [r[0] for r in after[1:]]
    assert len(paths) == len(set(paths)) == len(names)
    assert {Path(p).name for p in paths} == set(names)

    again = cli("score", str(model), str(folder), "-o", str(out), "--resume")
    assert again.exit_code == 0, again.stderr
    assert rows(out) == after


def test_a_field_is_quoted_for_cr_lf_quote_and_comma_only():
    assert csv_line(["a\rb", "c\nd", 'e"f', "g,h", "i\x01\x7fj", None, 1.5]) == \
        '"a\rb","c\nd","e""f","g,h",i\x01\x7fj,,1.5\n'
