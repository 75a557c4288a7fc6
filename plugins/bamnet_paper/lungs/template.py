"""``anatomical``: each lung a fixed outline, placed where the thorax's edges fit it best.

The outline of each lung is drawn in code from a handful of anatomical
proportions (:class:`Outline`): narrower at the apex than at the base, the apex
rounded, the diaphragm's dome lowest at the costophrenic angle, and the heart's
notch in the lower medial part of the left lung. No image or mask went into it.

An image only places the two outlines, each by the four sides of its box:
apex, diaphragm, mediastinal edge and rib-cage edge. A side sits where the
outline's points facing that way cross the strongest dark-inside,
bright-outside edges. An opacity inside a lung is bright with dark lung on its
mediastinal and upper side: the very edge a rib-cage edge or a diaphragm makes,
only further in. So each side is placed by the part of the anatomy that
opacities (peripheral, mostly in the lower zones) leave alone:

- the spine's column (the brightest band of the middle columns, above the
  diaphragm) centres the search once it stands more than :data:`OFF` of the
  width off the image's centre, so a patient standing to one side is followed;
- the apex and the mediastinal edge by all their points; each mediastinal edge
  kept at least :data:`GAP` of the width off the spine's column, so the fields
  never meet over it;
- the rib-cage edge only by its upper :data:`WALL_V` (the chest wall below the
  apex), the diaphragm only by its mediastinal :data:`DIAPHRAGM_U` (the dome by
  the heart and spine), where the lower, outer opacities seldom reach;
- a side is scored by a high quantile of the edge strength along those points,
  so a boundary hidden over part of its length still counts by the rest, and
  of the positions scoring nearly as well as the best the outermost wins;
- the two lungs hold each other: apices and diaphragms within a few percent of
  the image of each other's, and the rib-cage edges about as far from the
  mediastinum on both sides, trusting the larger lung.

The field is a little larger than the lungs on a clear image and keeps its size
under strong opacities; docs/lung-fields.md gives the measured sizes.

Intensity enters only as the direction of its gradient across the outline,
after the image is spread between robust percentiles, so exposure and
contrast do not matter either.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GRID = 96  # outlines are fitted on a GRID x GRID copy of the image
SMOOTH = 0.012  # Gaussian blur before the gradient, a share of GRID (ribs fade, lungs stay)
POINTS = 64  # points along each outline
QUANTILE = (0.65, 0.65, 0.65, 0.65)  # a side's score: this quantile of the edge strength
NEARLY = (0.75, 0.75, 0.75, 0.85)  # positions scoring at least this share of the best: the
# outermost wins; per side (apex, diaphragm, mediastinal edge, rib-cage edge)
DIAPHRAGM_U = 0.6  # the diaphragm is scored by its points this far out from the mediastinum
WALL_V = 0.7  # the rib-cage edge is scored by its points this far down from the apex
SPINE = 0.25  # the spine is looked for within this share of the width of the centre
OFF = 0.1  # the search follows the spine once it stands this share of the width off centre
GAP = 0.05  # the mediastinal edges stay at least this share of the width off the midline
LEVEL = 0.06  # apices (and diaphragms) within this share of the image of each other's
REACH = 0.05  # the rib-cage edges' distances from the mediastinum within this share
ROUNDS = 3  # passes over the eight sides


@dataclass(frozen=True)
class Outline:
    """One lung's outline in its box, from anatomical proportions.

    Coordinates ``(u, v)``: ``u`` from the mediastinal edge (0) to the rib cage (1),
    ``v`` from the apex (0) to the costophrenic angle (1).

    :param taper: how much narrower the lung is at the apex, on the rib-cage side
        (the rib cage's curve), as a share of the box's width.
    :param curve: the power of that curve: higher keeps the lung wide further up.
    :param dome: how much higher the diaphragm meets the mediastinum than the
        costophrenic angle, as a share of the box's height.
    :param heart: the heart's notch at the lower mediastinal corner, as the
        semi-axes ``(across, up)`` of an ellipse, shares of the box; ``(0, 0)`` none.
    """

    taper: float = 0.5
    curve: float = 3.0
    dome: float = 0.15
    heart: tuple[float, float] = (0.0, 0.0)

    def inside(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Whether each ``(u, v)`` lies inside the lung."""
        rib_cage = 1 - self.taper * (1 - v) ** self.curve
        inside = (u >= 0) & (u <= rib_cage) & (v >= 0)
        cap = 0.15  # the apex: half an ellipse over the top 15% of the height
        half = np.maximum(rib_cage / 2, 1e-3)
        inside &= (v >= cap) | (((u - half) / half) ** 2 + ((v - cap) / cap) ** 2 <= 1)
        inside &= v <= 1 - self.dome * (1 - u) ** 1.5
        across, up = self.heart
        if across > 0 and up > 0:
            inside &= (u / across) ** 2 + ((v - 1) / up) ** 2 > 1
        return inside

    def points(self, count: int = POINTS, raster: int = 256) -> np.ndarray:
        """``count`` points evenly along the outline, ``(count, 2)`` as ``(u, v)``, in order."""
        v, u = (np.mgrid[0:raster, 0:raster] + 0.5) / raster
        mask = self.inside(u, v).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        line = (max(contours, key=len)[:, 0, :].astype(np.float64) + 0.5) / raster
        closed = np.vstack([line, line[:1]])
        arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(closed, axis=0).T))])
        at = np.linspace(0.0, arc[-1], count, endpoint=False)
        return np.stack([np.interp(at, arc, closed[:, 0]), np.interp(at, arc, closed[:, 1])], 1)


RIGHT = Outline()  # the patient's right lung: on the image's left
LEFT = Outline(heart=(0.45, 0.55))  # the patient's left lung, with the heart's notch


def _normals(points: np.ndarray) -> np.ndarray:
    """Unit outward normals of a closed outline's points."""
    tangent = np.roll(points, -1, 0) - np.roll(points, 1, 0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    if np.sum((points - points.mean(0)) * normal) < 0:
        normal = -normal
    return normal


_SHAPES = tuple((p, _normals(p)) for p in (RIGHT.points(), LEFT.points()))


class AnatomicalLungFields:
    """Lung fields from a two-lung outline fitted to the mediastinum, rib cage and diaphragm.

    Never reads a label; an opacity inside a lung leaves the field (nearly) as it is.
    """

    version = "2"  # the fields cached properties were read outside of; raise it when they change

    def estimate(self, image: np.ndarray) -> np.ndarray:
        """The lung fields of one ``(h, w)`` greyscale image in [0, 1], as bool ``(h, w)``."""
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 2 or min(image.shape) < 2:
            raise ValueError(f"expected one greyscale image (h, w), got shape {image.shape}")
        return draw_fields(fit_boxes(image), image.shape)


def _gradients(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The image on the grid, spread between robust percentiles, smoothed; and its gradient,
    scaled so that a strong edge is about 1."""
    shrink = min(image.shape) >= GRID
    small = cv2.resize(image, (GRID, GRID),
                       interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    lo, hi = np.percentile(small, (1, 99))
    small = np.clip((small - lo) / max(float(hi - lo), 1e-6), 0, 1).astype(np.float32)
    small = cv2.GaussianBlur(small, (0, 0), GRID * SMOOTH)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    scale = float(np.percentile(np.hypot(gx, gy), 90)) + 1e-6
    return small, gx / scale, gy / scale


def _scores(gx: np.ndarray, gy: np.ndarray, shape: tuple[np.ndarray, np.ndarray], side: int,
            boxes: np.ndarray, facing: tuple[float, float], quantile: float) -> np.ndarray:
    """The score of each candidate box ``(k, 4)`` = (top, bottom, medial, lateral) on the grid:
    the :data:`QUANTILE` of the outward edge strength along the points facing ``facing``."""
    points, normals = shape
    # the points facing that way (stretching a box keeps the signs of a normal's parts)
    facing_way = (side * normals[:, 0] * facing[0] + normals[:, 1] * facing[1]) > 0
    if facing[1] > 0:
        facing_way &= points[:, 0] <= DIAPHRAGM_U
    elif facing[0] * side > 0:
        facing_way &= points[:, 1] <= WALL_V
    (u, v), (nu, nv) = points[facing_way].T, normals[facing_way].T
    top, bottom, medial, lateral = (boxes[:, i:i + 1] for i in range(4))
    x = medial + (lateral - medial) * u
    y = top + (bottom - top) * v
    width, height = np.abs(lateral - medial) + 1e-6, bottom - top + 1e-6
    nx, ny = side * nu / width, nv / height  # normals of the stretched (and mirrored) outline
    norm = np.hypot(nx, ny) + 1e-12
    nx, ny = nx / norm, ny / norm
    xi, yi = np.round(x).astype(int), np.round(y).astype(int)
    within = (xi >= 0) & (xi < GRID) & (yi >= 0) & (yi < GRID)
    xi, yi = np.clip(xi, 0, GRID - 1), np.clip(yi, 0, GRID - 1)
    edge = np.where(within, np.clip(gx[yi, xi] * nx + gy[yi, xi] * ny, -1, 1), 0.0)
    weight = np.maximum(0.0, nx * facing[0] + ny * facing[1]) ** 2
    order = np.argsort(edge, axis=1)
    edge = np.take_along_axis(edge, order, 1)
    cumulative = np.cumsum(np.take_along_axis(weight, order, 1), 1)
    at = (cumulative < quantile * cumulative[:, -1:]).sum(1)
    return edge[np.arange(len(edge)), np.minimum(at, edge.shape[1] - 1)]


def midline(small: np.ndarray) -> float:
    """The spine's column on the grid: the brightest band of the middle third of the columns,
    over the upper two thirds of the rows (the mediastinum, above the diaphragm)."""
    n = small.shape[1]
    profile = small[int(0.1 * n):int(0.65 * n)].mean(0)
    profile = np.convolve(profile, np.ones(5) / 5, mode="same")
    lo, hi = int((0.5 - SPINE) * n), int((0.5 + SPINE) * n)
    return float(lo + np.argmax(profile[lo:hi]))


def _fit_lung(gx: np.ndarray, gy: np.ndarray, side: int, middle: float) -> list[float]:
    """One lung's box on the grid: ``side`` -1 for the lung on the image's left; its
    mediastinal edge kept off the ``middle`` column."""
    n = GRID
    shape = _SHAPES[0 if side < 0 else 1]
    c = middle / n if abs(middle / n - 0.5) > OFF else 0.5  # centred on an off-centre spine
    box = np.array([0.12 * n, 0.80 * n, (c + side * 0.05) * n, (c + side * 0.40) * n])
    ranges = {0: (0.0, 0.4 * n), 1: (0.5 * n, n),
              2: ((c - 0.2) * n, middle - GAP * n) if side < 0
              else (middle + GAP * n, (c + 0.2) * n),
              3: (max(0.0, (c - 0.5) * n), (c - 0.08) * n) if side < 0
              else ((c + 0.08) * n, min(n, (c + 0.5) * n))}
    outwards = {0: -1, 1: 1, 2: -side, 3: side}  # which way each side grows the lung
    facing = {0: (0.0, -1.0), 1: (0.0, 1.0), 2: (-side, 0.0), 3: (side, 0.0)}
    for _ in range(ROUNDS):
        for i in (3, 2, 0, 1):
            values = np.arange(*ranges[i], dtype=np.float64)
            candidates = np.repeat(box[None], len(values), 0)
            candidates[:, i] = values
            width = np.abs(candidates[:, 3] - candidates[:, 2])
            fits = (width >= 0.12 * n) & (candidates[:, 1] - candidates[:, 0] >= 0.3 * n)
            if not fits.any():
                continue
            scores = _scores(gx, gy, shape, side, candidates, facing[i], QUANTILE[i])
            scores = np.where(fits, scores, -np.inf)
            best = scores.max()
            near = (np.nonzero(scores >= NEARLY[i] * best)[0] if best > 0
                    else [int(np.argmax(scores))])
            box[i] = values[near[-1] if outwards[i] > 0 else near[0]]
    return [float(b) / n for b in box]


def fit_boxes(image: np.ndarray) -> tuple[tuple[float, float, float, float], ...]:
    """Both lungs' boxes ``(top, bottom, left, right)`` as shares of the image's height and
    width; the first is the lung on the image's left."""
    small, gx, gy = _gradients(image)
    spine = midline(small)
    (top0, bottom0, medial0, lateral0), (top1, bottom1, medial1, lateral1) = (
        _fit_lung(gx, gy, side, spine) for side in (-1, 1))
    # the lungs hold each other; where they disagree, the larger is trusted
    apex, diaphragm = min(top0, top1) + LEVEL, max(bottom0, bottom1) - LEVEL
    middle = (medial0 + medial1) / 2
    reach = max(middle - lateral0, lateral1 - middle) - REACH
    return ((min(top0, apex), max(bottom0, diaphragm), min(lateral0, middle - reach), medial0),
            (min(top1, apex), max(bottom1, diaphragm), medial1, max(lateral1, middle + reach)))


def draw_fields(boxes: tuple[tuple[float, float, float, float], ...],
                shape: tuple[int, int]) -> np.ndarray:
    """Both outlines drawn into their boxes on an ``(h, w)`` bool mask."""
    h, w = shape
    canvas = np.zeros((h, w), dtype=np.uint8)
    for (top, bottom, left, right), (points, _), side in zip(boxes, _SHAPES, (-1, 1),
                                                              strict=True):
        u, v = points[:, 0], points[:, 1]
        x = right - u * (right - left) if side < 0 else left + u * (right - left)
        y = top + v * (bottom - top)
        polygon = np.round(np.stack([x * w, y * h], 1) * 16).astype(np.int32)
        cv2.fillPoly(canvas, [polygon], 1, lineType=cv2.LINE_8, shift=4)
    return canvas.astype(bool)
