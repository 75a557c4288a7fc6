"""Crafted datasets whose verdict is known: a burned-in marker, and no confound at all.

Both classes share one source and one acquisition (the same blurred-noise
background, the same size, format, bit depth and file size). In the marker dataset every
covid image carries a bright square in a corner, outside the lung fields the
occlusion check masks. In the clean dataset the only difference is in the
lungs: a bar across the centre, horizontal for normal and vertical for covid,
with the same pixel count and brightness, so no image property can tell them
apart.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = 64


def background(seed: int) -> np.ndarray:
    """A smooth random gray image, alike in distribution for every seed."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(70, 150, (SIZE, SIZE), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2)


def with_marker(image: np.ndarray) -> np.ndarray:
    """A white square in the top-left corner, outside the lung fields."""
    out = image.copy()
    out[2:11, 2:11] = 255
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


def write_dataset(root: Path, kind: str, *, patients: int = 60, per_patient: int = 1) -> Path:
    """``root/manifest.csv`` of a ``"marker"`` or ``"clean"`` dataset; one source, ``site``."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["path,label,patient_id,source"]
    for p in range(2 * patients):
        label = "covid" if p % 2 else "normal"
        for k in range(per_patient):
            seed = p * per_patient + k
            image = background(seed)
            if kind == "marker":
                image = with_marker(image) if label == "covid" else image
            elif kind == "clean":
                image = with_bar(image, vertical=label == "covid", seed=seed)
            else:
                raise ValueError(kind)
            name = f"{kind}-{p:03d}-{k}.png"
            # stored, not deflated: a compressed PNG's size tells a horizontal bar from a
            # vertical one, which is itself a shortcut the baseline finds
            ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 0])
            assert ok, name
            (root / name).write_bytes(buf.tobytes())
            lines.append(f"{name},{label},{kind}-p{p:03d},site")
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
