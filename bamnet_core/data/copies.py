"""Is one image a copy of another, after the edits a copy usually goes through?

A copy of an image is still the same image after it is saved again as JPEG,
resized, padded, cropped by a tenth on a side, flipped left-right, or made
brighter or more contrasted. A difference hash (:mod:`.fingerprints`) misses
most of these: its cells move with a crop or a pad, and a flip changes every
bit. Here:

1. every image becomes a *thumbnail*: its content box (uniform borders, such as
   padding, trimmed away) resized to a 64 x 64 square, contrast stretched, and
   stored as 8-bit pixels with the image's fingerprint;
2. a *shortlist* gives each query its 12 nearest references by the
   correlation of a blurred 12 x 12 layout, the query taken as it is and
   flipped, each reference whole and cropped on any of its sides (so a flip
   or a crop is no farther than the original);
3. a *verification* aligns each shortlisted pair: each axis's scale and offset
   (a crop, a resize, a pad that was not trimmed) is searched on the row and
   column profiles, the best joint alignment is refined (affine, enhanced
   correlation), and the pair is scored by the correlation of the two images'
   fine structure, each neighbourhood scaled to a like energy so that a body
   outline or a marker shared by unrelated images does not decide. Brightness
   and contrast drop out of a normalised correlation. A pair is a copy from
   :data:`UNMISTAKABLE`, or from :data:`DEFAULT_MIN_CORRELATION` where it stands
   :data:`MARGIN` above the reference's own nearest other reference. Drawn
   phantoms of different patients can be as alike as a copy (the same drawing,
   a few parameters apart): that rule keeps most of them apart, not all.

On 1,082 public chest X-rays this found 1,898 of 1,900 copies made by the edits
above, and called 1 of 584,821 pairs of different patients a copy
(``benchmarks/overlap_copies.py``, docs/evaluation.md). The thumbnail is made where an
image is decoded anyway, so the run's images are not decoded again to be compared.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

THUMB = 64  # side of a thumbnail, pixels
_THUMB_VERSION = "t1"  # of how a thumbnail is made: a cached one of another is made again
_DESC = 12  # side of the shortlist descriptor
_CROP_STEP = 0.1  # reference windows cropped by up to this share of a side
SHORTLIST = 12  # candidates verified per query (alike images, e.g. paediatric, crowd it)
DEFAULT_MIN_CORRELATION = 0.8  # a copy, where no other reference comes close
UNMISTAKABLE = 0.95  # a copy, however close other references come
MARGIN = 0.05  # how far above every other shortlisted reference a copy must score
_SCALES = np.geomspace(0.76, 1.0 / 0.76, 29)  # axis scale ratios searched (crop, pad)
_DETAIL = 2.0  # blur (thumbnail pixels) whose residue is the fine structure compared
_LOCAL = 3.0  # neighbourhood (thumbnail pixels) over which fine structure is scaled
_FLOOR = 0.1  # of the median local energy: flat areas are not scaled up into noise
_KEEP = 2  # best alignments per axis carried into the 2-D check
_GATE = 0.5  # plain correlation under which an aligned pair is not refined (no copy is)
_FLAT = 0.02  # a border row whose spread is below this (unit range) is padding


@dataclass(frozen=True)
class CopyMatch:
    """One query image found to be a copy of a reference image.

    :param query: index of the query image.
    :param reference: index of the reference image.
    :param correlation: the normalised correlation of the aligned thumbnails.
    :param flipped: True when the query is the reference flipped left-right.
    """

    query: int
    reference: int
    correlation: float
    flipped: bool


def content_box(gray: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of the image without its uniform borders (padding)."""
    rows = np.ptp(gray, axis=1) >= _FLAT
    cols = np.ptp(gray, axis=0) >= _FLAT
    if rows.sum() < 8 or cols.sum() < 8:
        return 0, gray.shape[0], 0, gray.shape[1]
    r = np.flatnonzero(rows)
    c = np.flatnonzero(cols)
    return int(r[0]), int(r[-1]) + 1, int(c[0]), int(c[-1]) + 1


def thumbnail(gray: np.ndarray) -> np.ndarray:
    """The image's content box as a ``THUMB`` x ``THUMB`` uint8 image (contrast stretched)."""
    g = np.asarray(gray, dtype=np.float32)
    if g.ndim == 3:
        g = g.mean(axis=2)
    top, bottom, left, right = content_box(g)
    g = g[top:bottom, left:right]
    small = cv2.resize(g, (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    lo, hi = float(small.min()), float(small.max())
    # a flat image stays flat (zero), never float noise stretched to full range
    scaled = (small - lo) / (hi - lo) if hi - lo >= _FLAT else np.zeros_like(small)
    return np.round(scaled * 255.0).astype(np.uint8)


def encode_thumbnail(thumb: np.ndarray) -> str:
    """A thumbnail as text (its version, then base64 of its pixels), for a JSON cache entry."""
    pixels = np.ascontiguousarray(thumb, dtype=np.uint8).tobytes()
    return f"{_THUMB_VERSION}:" + base64.b64encode(pixels).decode("ascii")


def decode_thumbnail(text: object) -> np.ndarray | None:
    """Undo :func:`encode_thumbnail`; None when ``text`` is not one of this version's."""
    if not isinstance(text, str) or not text.startswith(f"{_THUMB_VERSION}:"):
        return None
    try:
        raw = base64.b64decode(text[len(_THUMB_VERSION) + 1:].encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) != THUMB * THUMB:
        return None
    return np.frombuffer(raw, dtype=np.uint8).reshape(THUMB, THUMB)


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` centred and scaled to unit norm (a zero row stays zero)."""
    x = x - x.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def _descriptor(window: np.ndarray) -> np.ndarray:
    """A window's blurred ``_DESC`` x ``_DESC`` layout, flattened."""
    return cv2.resize(cv2.GaussianBlur(window, (0, 0), 1.5), (_DESC, _DESC),
                      interpolation=cv2.INTER_AREA).ravel()


def _query_descriptors(thumbs: np.ndarray) -> np.ndarray:
    """``(n, 2, d)`` unit descriptors of each query thumbnail, as it is and flipped."""
    out = np.empty((len(thumbs), 2, _DESC * _DESC), dtype=np.float32)
    for i, t in enumerate(thumbs):
        t = t.astype(np.float32)
        out[i, 0] = _descriptor(t)
        out[i, 1] = _descriptor(np.ascontiguousarray(t[:, ::-1]))
    return _unit(out)


def _crop_windows() -> list[tuple[int, int, int, int]]:
    """The reference windows a query may be: whole, or cropped on any sides."""
    c = round(_CROP_STEP * THUMB)
    h = c // 2
    sides = [(0, 0), (c, 0), (0, c), (c, c), (h, h)]
    return [(t, THUMB - b, left, THUMB - right) for t, b in sides for left, right in sides]


def _reference_descriptors(thumbs: np.ndarray) -> np.ndarray:
    """``(n, windows, d)`` unit descriptors of each reference thumbnail's crop windows."""
    windows = _crop_windows()
    out = np.empty((len(thumbs), len(windows), _DESC * _DESC), dtype=np.float32)
    for i, t in enumerate(thumbs):
        t = t.astype(np.float32)
        for w, (top, bottom, left, right) in enumerate(windows):
            out[i, w] = _descriptor(t[top:bottom, left:right])
    return _unit(out)


def shortlist(queries: np.ndarray, references: np.ndarray, k: int = SHORTLIST, *,
              described: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each query's ``k`` nearest references (flips and crops included), and their similarity.

    :param described: the references' descriptors, where already computed.
    :returns: ``(n_queries, k)`` reference indices, nearest first, and the similarities.
    """
    k = min(k, len(references))
    n_ref = len(references)
    if described is None:
        described = _reference_descriptors(references)
    ref = described.reshape(-1, _DESC * _DESC)
    mine = _query_descriptors(queries)
    idx = np.empty((len(queries), k), dtype=np.int64)
    sims = np.empty((len(queries), k), dtype=np.float32)
    step = 64
    for start in range(0, len(queries), step):
        block = mine[start:start + step]
        sim = (block.reshape(-1, block.shape[-1]) @ ref.T)
        sim = sim.reshape(len(block), 2, n_ref, -1).max(axis=(1, 3))  # over flips, windows
        part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        psim = np.take_along_axis(sim, part, axis=1)
        order = np.argsort(-psim, axis=1)
        idx[start:start + step] = np.take_along_axis(part, order, axis=1)
        sims[start:start + step] = np.take_along_axis(psim, order, axis=1)
    return idx, sims


def _axis_grid() -> tuple[np.ndarray, np.ndarray]:
    """Every searched alignment ``x_ref = a * x_query + b`` (unit coordinates) on one axis."""
    pairs = []
    step = 1.0 / THUMB
    for a in _SCALES:
        # the query's [0, 1] maps to [b, b + a]: one inside the other (a crop, or a pad
        # that was not uniform enough to be trimmed)
        lo, hi = sorted((0.0, 1.0 - a))
        for b in np.arange(lo, hi + 1e-9, step) if hi > lo else [0.0]:
            pairs.append((a, b))
    grid = np.array(pairs, dtype=np.float64)
    return grid[:, 0], grid[:, 1]


_A, _B = _axis_grid()
_U = (np.arange(THUMB) + 0.5) / THUMB


def _sampling() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each alignment samples a reference profile: lower index, upper, weight, valid."""
    pos = (_A[:, None] * _U[None, :] + _B[:, None]) * THUMB - 0.5  # reference pixels
    valid = (pos >= -0.5) & (pos <= THUMB - 0.5)
    pos = np.clip(pos, 0.0, THUMB - 1.0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, THUMB - 1)
    return lo, hi, (pos - lo).astype(np.float32), valid.astype(np.float32)


_LO, _HI, _FRAC, _VALID = _sampling()
_N = _VALID.sum(axis=1)


def _query_profile(profile: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A query profile centred within each alignment's overlap, and its squared norms."""
    q = np.broadcast_to(profile.astype(np.float32), _VALID.shape)
    dq = (q - ((q * _VALID).sum(axis=1) / _N)[:, None]) * _VALID
    return dq, (dq * dq).sum(axis=1)


def _profile_alignments(query: tuple[np.ndarray, np.ndarray], r: np.ndarray) -> np.ndarray:
    """Indices into the axis grid of the best ``_KEEP`` alignments of a query profile
    (:func:`_query_profile`) onto reference profile ``r``."""
    dq, qq = query
    r = r.astype(np.float32)
    sampled = r[_LO] * (1.0 - _FRAC) + r[_HI] * _FRAC
    dr = (sampled - ((sampled * _VALID).sum(axis=1) / _N)[:, None]) * _VALID
    num = (dq * dr).sum(axis=1)
    den = np.sqrt(qq * (dr * dr).sum(axis=1))
    score = np.where(den > 0, num / np.where(den > 0, den, 1.0), -1.0)
    return np.argpartition(-score, _KEEP)[:_KEEP]


def _warp(ay: int, ax: int) -> np.ndarray:
    """The 2x3 matrix taking query pixels to reference pixels for two axis alignments."""
    def axis(k: int) -> tuple[float, float]:
        a, b = _A[k], _B[k]
        return a, a * 0.5 + b * THUMB - 0.5
    sx, tx = axis(ax)
    sy, ty = axis(ay)
    return np.array([[sx, 0.0, tx], [0.0, sy, ty]], dtype=np.float32)


def _detail(image: np.ndarray, sigma: float) -> np.ndarray:
    """The image's fine structure, each neighbourhood scaled to a like energy so that a few
    strong edges (a body outline, a marker) do not outweigh the texture everywhere else."""
    high = image - cv2.GaussianBlur(image, (0, 0), sigma)
    energy = cv2.GaussianBlur(high * high, (0, 0), _LOCAL)
    floor = _FLOOR * float(np.median(energy))
    return high / np.sqrt(energy + floor + 1e-12)


_ONES = np.ones((THUMB, THUMB), dtype=np.float32)
_EDGE = np.ones((7, 7), dtype=np.uint8)  # 3 pixels: a filter's edge is not the image's


def _score(q: np.ndarray, r: np.ndarray, warp: np.ndarray, detail: float) -> float:
    """Normalised correlation of ``q`` with ``r`` warped onto it, where ``r`` covers ``q``."""
    flags = cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(r, warp, (THUMB, THUMB), flags=flags,
                            borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(_ONES, warp, (THUMB, THUMB), flags=flags,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    if detail:
        warped = _detail(warped, detail)
        q = _detail(q, detail)
    ok = cv2.erode((inside > 0.99).astype(np.uint8), _EDGE, borderValue=0).astype(bool)
    if ok.sum() < THUMB * THUMB // 3:
        return -1.0
    a = q[ok] - q[ok].mean()
    b = warped[ok] - warped[ok].mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def _refine(q: np.ndarray, r: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """The warp refined by maximising the enhanced correlation (affine); the start if it fails."""
    try:
        _, refined = cv2.findTransformECC(q, r, warp.copy(), cv2.MOTION_AFFINE, _ECC, None, 3)
    except cv2.error:
        return warp
    return refined


_ECC = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-4)


@dataclass(frozen=True)
class PreparedQuery:
    """A query thumbnail ready for verification against many references: both
    orientations, with their profiles prepared."""

    views: tuple[tuple[bool, np.ndarray, tuple[np.ndarray, np.ndarray],
                       tuple[np.ndarray, np.ndarray]], ...]

    @classmethod
    def of(cls, thumb: np.ndarray) -> PreparedQuery:
        """Prepare ``thumb`` as it is and flipped left-right."""
        views = []
        for flip in (False, True):
            q = np.ascontiguousarray(thumb[:, ::-1] if flip else thumb).astype(np.float32)
            views.append((flip, q, _query_profile(q.mean(axis=1)),
                          _query_profile(q.mean(axis=0))))
        return cls(tuple(views))


def pair_correlation(query: np.ndarray | PreparedQuery, reference: np.ndarray
                     ) -> tuple[float, bool]:
    """The aligned detail correlation of two thumbnails, and whether the query is flipped.

    The alignment (each axis's scale and offset, both orientations) is found on the
    profiles, chosen by plain correlation, refined, and then scored on detail. A pair
    whose best plain correlation is under 0.5 is no copy and is not refined: that plain
    correlation is returned.
    """
    prepared = query if isinstance(query, PreparedQuery) else PreparedQuery.of(query)
    r = reference.astype(np.float32)
    r_rows, r_cols = r.mean(axis=1), r.mean(axis=0)
    best: tuple[float, bool, np.ndarray, int, int] | None = None
    rows = _profile_alignments(prepared.views[0][2], r_rows).tolist()  # a flip keeps rows
    for flip, q, _, q_cols in prepared.views:
        cols = _profile_alignments(q_cols, r_cols).tolist()
        for ay in rows:
            for ax in cols:
                c = _score(q, r, _warp(ay, ax), 0.0)
                if best is None or c > best[0]:
                    best = (c, flip, q, ay, ax)
    assert best is not None
    plain, flip, q, ay, ax = best
    if plain < _GATE:  # copies scored 0.68 and up here on real X-rays
        return plain, flip
    return _score(q, r, _refine(q, r, _warp(ay, ax)), _DETAIL), flip


def find_copies(queries: Sequence[np.ndarray], references: Sequence[np.ndarray] | None = None,
                *, min_correlation: float = DEFAULT_MIN_CORRELATION,
                k: int = SHORTLIST) -> list[CopyMatch]:
    """For each query thumbnail, the reference it is a copy of, if any.

    A query is a copy of its best-scoring shortlisted reference when that score
    reaches :data:`UNMISTAKABLE`, or reaches ``min_correlation`` and stands
    :data:`MARGIN` above the reference's own nearest other reference: among
    images as alike as drawn phantoms, a good score alone does not single one out.

    :param references: None to look for copies among the queries themselves (an image
        is then never its own copy).
    :returns: one match per query that has one, in query order.
    """
    within = references is None
    if within and len(queries) < 2 or not within and not (len(queries) and len(references)):
        return []
    q = np.stack(queries)
    r = q if within else np.stack(references)
    described = _reference_descriptors(r)
    nearest: dict[int, float] = {}
    out: list[CopyMatch] = []
    for i, cands in enumerate(shortlist(q, r, k + within, described=described)[0]):
        prepared = PreparedQuery.of(q[i])
        best, flipped, j = -1.0, False, -1
        for c in cands.tolist():  # nearest first; an unmistakable copy ends the search
            if within and c == i:
                continue
            score, flip = pair_correlation(prepared, r[c])
            if score > best:
                best, flipped, j = score, flip, c
            if best >= UNMISTAKABLE:
                break
        if best >= UNMISTAKABLE:
            out.append(CopyMatch(i, j, best, flipped))
        elif best >= min_correlation:
            if j not in nearest:
                nearest[j] = _nearest_other(r, described, j, k)
            if best >= nearest[j] + MARGIN:
                out.append(CopyMatch(i, j, best, flipped))
    return out


def _nearest_other(references: np.ndarray, described: np.ndarray, j: int, k: int) -> float:
    """The best score of reference ``j`` against the other references: how alike they are."""
    cands = shortlist(references[j:j + 1], references, k + 1, described=described)[0][0]
    prepared = PreparedQuery.of(references[j])
    scores = [pair_correlation(prepared, references[c])[0] for c in cands.tolist() if c != j]
    return max(scores, default=-1.0)
