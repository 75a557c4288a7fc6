"""Datasets whose verdict is known before any run: to measure how often the verdict is right.

Each :class:`Case` writes a small manifest dataset (64 px grey PNGs, stored
uncompressed so file size tells nothing) whose construction fixes the right
reading, and the config overrides to run it with. Every image starts from the
same smooth noise background, so only what a case adds can separate the
classes:

- ``marker``: a bright square in the top-left corner of every covid image,
  outside the lungs: a shortcut (strong).
- ``marker-below-lung``: a small square just below the left lung, inside the
  central box but outside the lung fields: a shortcut (strong).
- ``clean``: a bar across the centre, horizontal for normal and vertical for
  covid, of equal area and brightness: the signal is in the lungs (none found).
- ``lung-opacity``: covid images carry large bright opacities inside both lung
  fields, everything outside them drawn alike for both classes: the signal is
  only in the lungs (none found).
- ``source``: each class from its own hospital, whose backgrounds differ in
  brightness, nothing in the lungs: a shortcut (strong).
- ``acquisition``: covid images stored at 48 px, normal ones at 64 px, nothing
  else differs: a shortcut (strong).
- ``noise``: labels drawn at random: nothing to learn, so no shortcut either.

The expected reading is the verdict bamnet should give; ``benchmarks/verdict_accuracy.py``
runs each case and prints expected against got.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

SIZE = 64
KINDS = ("marker", "marker-below-lung", "clean", "lung-opacity", "source", "acquisition",
         "noise")


def background(seed: int, offset: int = 0) -> np.ndarray:
    """A smooth random grey image, alike in distribution for every seed (``offset`` brightens)."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(70 + offset, 150 + offset, (SIZE, SIZE), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2)


def with_marker(image: np.ndarray, y: int = 2, x: int = 2, side: int = 9) -> np.ndarray:
    """A white square with its top-left corner at ``(y, x)``."""
    out = image.copy()
    out[y:y + side, x:x + side] = 255
    return out


def with_bar(image: np.ndarray, vertical: bool, seed: int) -> np.ndarray:
    """A bright 6 x 22 bar in the centre (in the lungs), jittered by a few pixels."""
    rng = np.random.default_rng(seed + 10_000)
    dy, dx = rng.integers(-3, 4, 2)
    out = image.copy()
    c = SIZE // 2
    h, w = (22, 6) if vertical else (6, 22)
    y0, x0 = c - h // 2 + dy, c - w // 2 + dx
    out[y0:y0 + h, x0:x0 + w] = 230
    return out


def with_opacities(image: np.ndarray, seed: int) -> np.ndarray:
    """Bright blurred blobs inside both lung fields (ellipses left and right of the centre)."""
    rng = np.random.default_rng(seed + 20_000)
    blobs = np.zeros_like(image, dtype=np.float32)
    for cx in (SIZE // 2 - 12, SIZE // 2 + 12):
        cy = SIZE // 2 + int(rng.integers(-4, 5))
        cv2.ellipse(blobs, (cx, cy), (6, 11), 0, 0, 360, 90.0, -1)
    blobs = cv2.GaussianBlur(blobs, (0, 0), 2)
    return np.clip(image.astype(np.float32) + blobs, 0, 255).astype(np.uint8)


def _image(kind: str, label: str, seed: int) -> tuple[np.ndarray, str]:
    """One image of ``kind`` for ``label``, and the source it comes from."""
    covid = label == "covid"
    if kind == "source":
        return background(seed, offset=40 if covid else 0), "north" if covid else "south"
    image = background(seed)
    if kind == "marker" and covid:
        image = with_marker(image)
    elif kind == "marker-below-lung" and covid:
        image = with_marker(image, y=int(SIZE * 0.78), x=int(SIZE * 0.28), side=6)
    elif kind == "clean":
        image = with_bar(image, vertical=covid, seed=seed)
    elif kind == "lung-opacity" and covid:
        image = with_opacities(image, seed)
    elif kind == "acquisition" and covid:
        image = cv2.resize(image, (48, 48), interpolation=cv2.INTER_AREA)
    elif kind not in KINDS:
        raise ValueError(f"unknown known-answer dataset {kind!r}; one of {', '.join(KINDS)}")
    return image, "site"


def write_dataset(root: Path, kind: str, *, patients: int = 60, per_patient: int = 1,
                  seed: int = 0) -> Path:
    """Write ``root/manifest.csv`` and its images for dataset ``kind``; return the manifest.

    ``patients`` per class; ``per_patient`` images each. For ``noise`` the labels
    are drawn at random (``seed``), independent of the images.
    """
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 30_000)
    lines = ["path,label,patient_id,source"]
    for p in range(2 * patients):
        label = "covid" if p % 2 else "normal"
        drawn = label if kind != "noise" else ("covid" if rng.random() < 0.5 else "normal")
        for k in range(per_patient):
            image, source = _image(kind, label, p * per_patient + k)
            name = f"{kind}-{p:03d}-{k}.png"
            # stored, not deflated: a compressed PNG's size tells a horizontal bar from a
            # vertical one, which is itself a shortcut the baseline finds
            ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 0])
            if not ok:
                raise RuntimeError(f"OpenCV could not encode {name}")
            (root / name).write_bytes(buf.tobytes())
            lines.append(f"{name},{drawn},{kind}-p{p:03d},{source}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "manifest.csv"


CONFIG = """\
[run]
name = "{name}"
seed = 1

[data]
source = "manifest-csv"
path = "{manifest}"
classes = ["normal", "covid"]
positive = "covid"

[preprocess]
size = 32
channels = 1

[split]
by = "{by}"
val = 0.25
test = 0.25

[backbone]
name = "small-cnn"
filters = [8, 16]
dense = 16

[train]
epochs = {epochs}
batch_size = 8
optimizer = {{ name = "adam", lr = 0.003 }}

[evaluate]
evaluators = ["classification", "roc", "occlusion", "source-probe"]
bootstrap = 200

[export]
onnx = false
"""


def write_config(root: Path, manifest: Path, *, name: str, by: str = "patient",
                 epochs: int = 12) -> Path:
    """A small config that trains on ``manifest`` in seconds."""
    path = root / f"{name}.toml"
    path.write_text(CONFIG.format(name=name, manifest=manifest.as_posix(), by=by,
                                  epochs=epochs), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Case:
    """One known-answer run: its dataset, how it is run, and the reading it should get.

    :param name: the case's name, as the benchmark prints it.
    :param kind: the dataset (:data:`KINDS`).
    :param expected: the verdict's reading (``strong shortcut evidence``, ``none found``,
        ``not checked``), or ``the model did not learn``.
    :param why: what makes that the right reading.
    :param by: ``patient`` or ``image`` (a leaky split).
    :param per_patient: images per patient.
    :param epochs: training epochs.
    :param overrides: ``--set`` arguments.
    """

    name: str
    kind: str
    expected: str
    why: str
    by: str = "patient"
    per_patient: int = 1
    epochs: int = 8
    overrides: tuple[str, ...] = field(default_factory=tuple)


CHECKS_OFF = ("evaluate.evaluators=['classification']", "audit.shortcut_baseline=false",
              "audit.subgroups=false")

CASES: tuple[Case, ...] = (
    Case("marker outside the lungs", "marker", "strong shortcut evidence",
         "a corner marker on covid images only"),
    Case("marker below a lung", "marker-below-lung", "strong shortcut evidence",
         "a marker inside the central box but outside the lung fields"),
    Case("signal in the lungs", "clean", "none found",
         "bars of one area and brightness in the lungs, nothing else differs", epochs=12),
    Case("opacities only in the lungs", "lung-opacity", "none found",
         "bright opacities in both lungs, everything outside drawn alike", epochs=12),
    Case("one hospital per class", "source", "strong shortcut evidence",
         "each class from its own site, whose backgrounds differ"),
    Case("one image size per class", "acquisition", "strong shortcut evidence",
         "covid stored at 48 px, normal at 64 px, nothing else differs"),
    Case("image-level split", "clean", "strong shortcut evidence",
         "two images per patient split by image: patients cross splits",
         by="image", per_patient=2, epochs=2),
    Case("labels at random", "noise", "the model did not learn",
         "labels independent of the images: nothing to learn, no shortcut"),
    Case("every check off", "clean", "not checked",
         "no shortcut check runs, so nothing can be said", epochs=12, overrides=CHECKS_OFF),
)
