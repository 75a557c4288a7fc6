"""Datasets whose verdict is known before any run: to measure how often the verdict is right.

Each :class:`Case` writes a small manifest dataset (64 px grey chest phantoms, PNGs
stored uncompressed so file size tells nothing) whose construction fixes the right
reading, and the config overrides to run it with. Every image is drawn from the same
anatomy (a body, two dark lung fields, a spine, a heart shadow, smooth noise), varied
per image alike for both classes, so only what a dataset adds can separate them:

- ``marker``: a bright square in the top-left corner of every covid image,
  outside the body: a shortcut (strong).
- ``marker-below-lung``: a small square just below the left lung's diaphragm, inside the
  central box but outside the lung fields: a shortcut (strong).
- ``label``: a small bright letter over the heart shadow, between the lungs, of every
  covid image: a shortcut inside the central box (strong).
- ``clean``: a bar in the right lung, horizontal for normal and vertical for covid, of
  equal area and brightness: the signal is in the lungs (none found).
- ``lung-opacity``: covid images carry bright opacities inside both lung fields,
  everything outside them drawn alike for both classes: the signal is only in the
  lungs (none found).
- ``source``: each class from its own hospital, whose exposures differ in brightness:
  a shortcut (strong).
- ``sources-balanced``: two hospitals, one of which collimates tightly (a dark frame
  around every image), each holding both classes equally, and opacities in the lungs:
  the hospital is visible but tells nothing of the class (none found).
- ``acquisition``: covid images stored at 48 px, normal ones at 64 px, nothing else
  differs: a shortcut (strong).
- ``format``: covid images stored as JPEG (quality 40), normal ones as PNG, nothing
  else differs: a shortcut (strong).
- ``copies``: the opacity data, with every covid image stored again under a second
  patient id: copies cross the patient-grouped split (strong).
- ``noise``: labels drawn at random: nothing to learn, so no shortcut either.

The expected reading is the verdict bamnet should give with its built-in evaluators (named
in :data:`CONFIG` and :data:`CHECKS_OFF`, which is why this module lives with them);
``benchmarks/verdict_accuracy.py`` runs each case and prints expected against got.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

SIZE = 64
JPEG_QUALITY = 40  # the ``format`` case's JPEGs: blocking a CNN can learn, everywhere on the image
KINDS = ("marker", "marker-below-lung", "label", "clean", "lung-opacity", "source",
         "sources-balanced", "acquisition", "format", "copies", "noise")


# The left lung of the image (the patient's right), as (x, y) fractions of the side:
# apex, the lateral wall down to the costophrenic angle, the diaphragm's dome, the mediastinum.
LEFT_LUNG = ((0.33, 0.13), (0.25, 0.18), (0.20, 0.28), (0.17, 0.45), (0.16, 0.62), (0.17, 0.76),
             (0.19, 0.81), (0.25, 0.76), (0.32, 0.72), (0.40, 0.73), (0.44, 0.70), (0.44, 0.40),
             (0.42, 0.20), (0.38, 0.14))
HEART_PUSH = 0.05  # the heart pushes the other lung's lower medial edge outward


@dataclass(frozen=True)
class Lungs:
    """Where one phantom's lung fields are: two polygons of ``(x, y)`` pixel points."""

    left: tuple[tuple[float, float], ...]
    right: tuple[tuple[float, float], ...]

    def mask(self) -> np.ndarray:
        """The lung fields as a boolean ``(SIZE, SIZE)`` image."""
        out = np.zeros((SIZE, SIZE), np.uint8)
        for polygon in (self.left, self.right):
            cv2.fillPoly(out, [np.round(np.array(polygon) * 8).astype(np.int32)], 1,
                         cv2.LINE_8, shift=3)
        return out.astype(bool)

    def below_left(self) -> tuple[int, int]:
        """A pixel ``(y, x)`` a few pixels under the left lung's diaphragm dome."""
        x, y = self.left[8]
        return round(y) + 6, round(x) - 2

    def inside(self, side: int) -> tuple[float, float, float, float]:
        """The centre ``(y, x)`` and half-extents ``(ry, rx)`` of lung ``side`` (0: left)."""
        points = np.array(self.left if side == 0 else self.right)
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        return (y0 + y1) / 2, (x0 + x1) / 2, (y1 - y0) / 2, (x1 - x0) / 2


def anatomy(seed: int) -> Lungs:
    """The lung fields of image ``seed`` (the same draw :func:`chest` uses)."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.94, 1.06)
    dy, dx = rng.uniform(-1.5, 1.5, 2)

    def placed(points: tuple[tuple[float, float], ...], mirror: bool) -> tuple:
        out = []
        for x, y in points:
            if mirror:
                x = 1.0 - x + (HEART_PUSH if y > 0.5 and x > 0.35 else 0.0)
            out.append((SIZE * (0.5 + (x - 0.5) * scale) + dx,
                        SIZE * (0.47 + (y - 0.47) * scale) + dy))
        return tuple(out)

    return Lungs(left=placed(LEFT_LUNG, False), right=placed(LEFT_LUNG, True))


def chest(seed: int, offset: int = 0) -> np.ndarray:
    """A grey chest phantom, alike in distribution for every seed (``offset`` brightens all
    of it, as a hospital's exposure would)."""
    rng = np.random.default_rng(seed + 50_000)
    lungs = anatomy(seed)
    image = np.full((SIZE, SIZE), 25.0, np.float32)
    cv2.ellipse(image, (SIZE // 2, round(SIZE * 0.55)), (round(SIZE * 0.41), round(SIZE * 0.6)),
                0, 0, 360, 150.0, -1)
    spine = slice(round(SIZE * 0.47), round(SIZE * 0.53))
    image[:, spine] = np.maximum(image[:, spine], 165.0)
    image[lungs.mask()] = 70.0
    heart = np.zeros_like(image)
    cv2.ellipse(heart, (round(SIZE * 0.55), round(SIZE * 0.64)),
                (round(SIZE * 0.1), round(SIZE * 0.09)), 0, 0, 360, 1.0, -1)
    image = np.where(heart > 0, 140.0, image)
    noise = cv2.GaussianBlur(rng.normal(0, 18, (SIZE, SIZE)).astype(np.float32), (0, 0), 1.5)
    image = cv2.GaussianBlur(image, (0, 0), 1.0) + noise + offset
    return np.clip(image, 0, 255).astype(np.uint8)


def with_marker(image: np.ndarray, y: int = 2, x: int = 2, side: int = 9) -> np.ndarray:
    """A white square with its top-left corner at ``(y, x)``."""
    out = image.copy()
    out[y:y + side, x:x + side] = 255
    return out


def with_frame(image: np.ndarray, width: int = 4) -> np.ndarray:
    """A dark frame ``width`` pixels wide around the image, as tight collimation leaves."""
    out = image.copy()
    out[:width], out[-width:], out[:, :width], out[:, -width:] = 10, 10, 10, 10
    return out


def with_label(image: np.ndarray) -> np.ndarray:
    """A small bright letter over the heart shadow, between the lungs' lower halves."""
    out = image.copy()
    cv2.putText(out, "P", (round(SIZE * 0.52) - 3, round(SIZE * 0.70)), cv2.FONT_HERSHEY_PLAIN,
                0.7, 255, 1, cv2.LINE_AA)
    return out


def with_bar(image: np.ndarray, vertical: bool, seed: int) -> np.ndarray:
    """A bright 14 x 4 bar in the centre of the right lung, jittered by a pixel or two."""
    rng = np.random.default_rng(seed + 10_000)
    cy, cx, _, _ = anatomy(seed).inside(1)
    dy, dx = rng.integers(-2, 3, 2)
    out = image.copy()
    cy, cx = round(cy) + dy, round(cx) + dx
    h, w = (14, 4) if vertical else (4, 14)
    out[cy - h // 2:cy - h // 2 + h, cx - w // 2:cx - w // 2 + w] = 200
    return out


def with_opacities(image: np.ndarray, seed: int) -> np.ndarray:
    """Bright blurred blobs confined to both lung fields (never outside them)."""
    rng = np.random.default_rng(seed + 20_000)
    lungs = anatomy(seed)
    blobs = np.zeros(image.shape, np.float32)
    for side in (0, 1):
        cy, cx, ry, rx = lungs.inside(side)
        for _ in range(3):
            y = cy + rng.uniform(-0.4, 0.5) * ry
            x = cx + rng.uniform(-0.35, 0.35) * rx
            cv2.circle(blobs, (round(x), round(y)), int(rng.integers(3, 6)), 70.0, -1)
    inside = cv2.erode(lungs.mask().astype(np.uint8), np.ones((3, 3), np.uint8))
    blobs = cv2.GaussianBlur(blobs, (0, 0), 1.5) * inside
    return np.clip(image.astype(np.float32) + blobs, 0, 255).astype(np.uint8)


def _image(kind: str, label: str, seed: int) -> tuple[np.ndarray, str]:
    """One image of ``kind`` for ``label``, and the source it comes from."""
    covid = label == "covid"
    if kind == "source":
        return chest(seed, offset=35 if covid else 0), "north" if covid else "south"
    if kind == "sources-balanced":
        north = seed % 4 < 2  # both classes alike in each hospital
        image = with_frame(chest(seed)) if north else chest(seed)
        return (with_opacities(image, seed) if covid else image), "north" if north else "south"
    image = chest(seed)
    if kind == "marker" and covid:
        image = with_marker(image)
    elif kind == "marker-below-lung" and covid:
        y, x = anatomy(seed).below_left()
        image = with_marker(image, y=y, x=x, side=5)
    elif kind == "label" and covid:
        image = with_label(image)
    elif kind == "clean":
        image = with_bar(image, vertical=covid, seed=seed)
    elif kind in ("lung-opacity", "copies") and covid:
        image = with_opacities(image, seed)
    elif kind == "acquisition" and covid:
        image = cv2.resize(image, (48, 48), interpolation=cv2.INTER_AREA)
    elif kind not in KINDS:
        raise ValueError(f"unknown known-answer dataset {kind!r}; one of {', '.join(KINDS)}")
    return image, "site"


def _encode(image: np.ndarray, jpeg: bool) -> tuple[bytes, str]:
    """The file's bytes and extension: a JPEG, or a PNG stored, not deflated (a compressed
    PNG's size tells a horizontal bar from a vertical one, itself a shortcut)."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]) if jpeg else \
        cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 0])
    if not ok:
        raise RuntimeError("OpenCV could not encode a known-answer image")
    return buf.tobytes(), ".jpg" if jpeg else ".png"


def write_dataset(root: Path, kind: str, *, patients: int = 60, per_patient: int = 1,
                  seed: int = 0) -> Path:
    """Write ``root/manifest.csv`` and its images for dataset ``kind``; return the manifest.

    ``patients`` per class; ``per_patient`` images each. For ``noise`` the labels
    are drawn at random (``seed``), independent of the images; for ``copies`` each
    covid image is written twice, as two files under two patient ids.
    """
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 30_000)
    lines = ["path,label,patient_id,source"]
    for p in range(2 * patients):
        label = "covid" if p % 2 else "normal"
        drawn = label if kind != "noise" else ("covid" if rng.random() < 0.5 else "normal")
        for k in range(per_patient):
            image, source = _image(kind, label, seed * 1_000 + p * per_patient + k)
            data, ext = _encode(image, jpeg=kind == "format" and label == "covid")
            name = f"{kind}-{p:03d}-{k}{ext}"
            (root / name).write_bytes(data)
            lines.append(f"{name},{drawn},{kind}-p{p:03d},{source}")
            if kind == "copies" and label == "covid":
                copy = f"{kind}-{p:03d}-{k}-copy{ext}"
                (root / copy).write_bytes(data)
                lines.append(f"{copy},{drawn},{kind}-copy-p{p:03d},{source}")
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
size = 64
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
        ``not checked``, ``the model did not learn``, ``too few images to conclude``).
    :param why: what makes that the right reading.
    :param by: ``patient`` or ``image`` (a leaky split).
    :param per_patient: images per patient.
    :param patients: patients per class.
    :param epochs: training epochs.
    :param overrides: ``--set`` arguments.
    """

    name: str
    kind: str
    expected: str
    why: str
    by: str = "patient"
    per_patient: int = 1
    patients: int = 60
    epochs: int = 8
    overrides: tuple[str, ...] = field(default_factory=tuple)


CHECKS_OFF = ("evaluate.evaluators=['classification']", "audit.shortcut_baseline=false",
              "audit.subgroups=false")

CASES: tuple[Case, ...] = (
    Case("marker outside the lungs", "marker", "strong shortcut evidence",
         "a corner marker on covid images only"),
    Case("marker below a lung", "marker-below-lung", "strong shortcut evidence",
         "a marker inside the central box but outside the lung fields"),
    Case("letter over the heart", "label", "strong shortcut evidence",
         "a small letter between the lungs on covid images only"),
    Case("signal in the lungs", "clean", "none found",
         "bars of one area and brightness in a lung, nothing else differs", epochs=12),
    Case("opacities only in the lungs", "lung-opacity", "none found",
         "bright opacities in both lungs, everything outside drawn alike", epochs=12),
    Case("one hospital per class", "source", "strong shortcut evidence",
         "each class from its own hospital, whose exposures differ"),
    Case("two hospitals, both classes in each", "sources-balanced", "none found",
         "one hospital collimates tightly, both hold the classes alike; opacities in the lungs",
         epochs=12),
    Case("one image size per class", "acquisition", "strong shortcut evidence",
         "covid stored at 48 px, normal at 64 px, nothing else differs"),
    Case("one file format per class", "format", "strong shortcut evidence",
         "covid stored as JPEG (quality 40), normal as PNG, nothing else differs", epochs=12),
    Case("image-level split", "clean", "strong shortcut evidence",
         "two images per patient split by image: patients cross splits",
         by="image", per_patient=2, epochs=12),
    Case("copies under other patients", "copies", "strong shortcut evidence",
         "each covid image stored twice under two patient ids: copies cross the split"),
    Case("labels at random", "noise", "the model did not learn",
         "labels independent of the images: nothing to learn, no shortcut"),
    Case("every check off", "clean", "not checked",
         "no shortcut check runs, so nothing can be said", epochs=12, overrides=CHECKS_OFF),
    Case("too few images", "lung-opacity", "too few images to conclude",
         "six patients per class: no interval can exclude chance", patients=6, epochs=12),
)
