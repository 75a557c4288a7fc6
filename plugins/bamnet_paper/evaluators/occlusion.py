"""``occlusion``: scores with the central lung fields masked out.

Each image's central region (rows 20-85%, columns 15-85%: the lungs and heart
on a frontal chest X-ray) is filled with the image's own mean value, and the
model scores it again. A model that still separates the classes without the
lungs is reading something else: borders, text markers, the scanner, age.

Masking means a second pass of the full model over every occluded image: the
features of the split's own pass cannot be reused for pixels no one has seen.
For a large model (VGG16 at 224x224 runs at about 6 images/s on 2 cores) that
pass dominated the evaluate stage, so at most ``max_images`` images per split
are occluded (default :data:`MAX_IMAGES`; 0 for every image), and fewer for a
costly model: as many as ``budget_gflop`` of forward passes allow (default
:data:`BUDGET_GFLOP`, counted from the model's layers, so the same on every
machine; 0 turns the budget off), but never fewer than :data:`LEAST_IMAGES`.
A small CNN occludes 64 images, VGG16 at 224x224 (31 GFLOP an image) 16. They
are drawn with the run's seed within each class in proportion to its size. Both AUCs, the drop and
its patient-bootstrap interval are computed on those same images; ``images``
says how many of how many.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bamnet_core.contract import (
    EvaluationContext,
    EvidenceLine,
    Findings,
    bootstrap_weighted,
    images_within,
    interval_text,
    low_end,
    number_text,
)

from . import fast_metrics

ROWS = (0.20, 0.85)
COLS = (0.15, 0.85)
STILL_SEPARATES = 0.70  # ROC AUC with the lungs hidden at or above this is a warning
MAX_IMAGES = 64
BUDGET_GFLOP = 500.0
LEAST_IMAGES = 16
SOME_AUC = 0.65
STRONG_AUC = 0.8
KEPT = 0.5


def mask_lung_fields(images: np.ndarray) -> np.ndarray:
    """A copy of ``images`` (n, h, w, c) with the central region set to each image's mean."""
    out = np.array(images, dtype=np.float32, copy=True)
    h, w = out.shape[1:3]
    r0, r1 = int(ROWS[0] * h), int(np.ceil(ROWS[1] * h))
    c0, c1 = int(COLS[0] * w), int(np.ceil(COLS[1] * w))
    means = out.mean(axis=(1, 2), keepdims=True)
    out[:, r0:r1, c0:c1, :] = np.broadcast_to(means, (len(out), r1 - r0, c1 - c0, out.shape[3]))
    return out


def stratified_rows(y: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Up to ``limit`` row indices (sorted), each class in proportion to its size, at
    least one per class; every row when ``limit`` is 0 or covers them all."""
    if limit <= 0 or len(y) <= limit:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    picked = []
    for value in np.unique(y):
        rows = np.flatnonzero(y == value)
        take = min(len(rows), max(1, round(limit * len(rows) / len(y))))
        picked.append(rng.choice(rows, size=take, replace=False))
    return np.sort(np.concatenate(picked))


def _auc(t: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(t, p)) if 0 < t.sum() < len(t) else None


def _pair(interval: dict[str, Any] | None) -> list[float] | None:
    return [interval["low"], interval["high"]] if interval else None


class OcclusionEvaluator:
    """ROC AUC and accuracy before and after masking the lung fields.

    :param max_images: images occluded per split, at most (0: every image).
    :param budget_gflop: forward-pass GFLOP per split that bound the count for a costly
        model (0: no budget).
    :param some_auc: ROC-AUC with the lungs masked (low end of its interval) at or above
        this: some shortcut evidence.
    :param strong_auc: ROC-AUC with the lungs masked (low end) at or above this: strong
        evidence.
    :param kept: share of the model's separation (AUC - 0.5) kept with the lungs masked,
        above chance: some evidence.
    """

    def __init__(self, *, max_images: int = MAX_IMAGES, budget_gflop: float = BUDGET_GFLOP,
                 some_auc: float = SOME_AUC, strong_auc: float = STRONG_AUC,
                 kept: float = KEPT) -> None:
        if max_images < 0:
            raise ValueError(f"max_images must be 0 (every image) or more, not {max_images}")
        if not budget_gflop >= 0:  # NaN too
            raise ValueError(f"budget_gflop must be 0 (no budget) or more, not {budget_gflop}")
        for name, value in (("some_auc", some_auc), ("strong_auc", strong_auc)):
            if not 0.5 <= value <= 1.0:
                raise ValueError(f"{name} must be 0.5 to 1, not {value}")
        if not 0.0 <= kept <= 1.0:
            raise ValueError(f"kept must be 0 to 1, not {kept}")
        self.max_images = max_images
        self.budget_gflop = budget_gflop
        self.some_auc, self.strong_auc, self.kept = some_auc, strong_auc, kept

    def limit(self, model: object | None) -> int:
        """Images to occlude per split for ``model`` (0: every image)."""
        if model is None or not self.budget_gflop or not self.max_images:
            return self.max_images
        return images_within(model, self.budget_gflop, most=self.max_images,
                             least=min(LEAST_IMAGES, self.max_images))

    def evaluate_context(self, context: EvaluationContext) -> Findings:
        """``auc_full`` vs ``auc_masked``, and the verdict line they support."""
        results = self.measure(context)
        return Findings(results=results, evidence=(self.line(results),))

    def measure(self, context: EvaluationContext) -> dict[str, Any]:
        """``auc_full`` vs ``auc_masked``; ``still_separates`` when the masked AUC stays high."""
        split, pos = context.split, context.positive_index
        if split.images is None or not len(split.images):
            return {"note": "no images to occlude"}
        rows = stratified_rows(split.y_true, self.limit(context.model), context.seed)
        t, full = split.y_true[rows] == pos, split.y_prob[rows, pos]
        masked = np.asarray(context.predict(mask_lung_fields(split.images[rows])), dtype=float)
        auc_full, auc_masked = _auc(t, full), _auc(t, masked[:, pos])
        pred = np.where(masked[:, pos] >= context.threshold, pos, -1)

        def on(w: np.ndarray) -> dict[str, np.ndarray]:  # both AUCs on the same resample
            hidden = fast_metrics.weighted_auc_ap(w, t, masked[:, pos])[0]
            return {"auc_masked": hidden,
                    "drop": fast_metrics.weighted_auc_ap(w, t, full)[0] - hidden}

        ci = bootstrap_weighted(on, split.patients[rows],
                                context.bootstrap, context.seed)
        return {
            "images": {"occluded": int(len(rows)), "of": int(len(split.y_true))},
            "region": {"rows": list(ROWS), "cols": list(COLS), "fill": "image mean"},
            "auc_full": auc_full,
            "auc_masked": auc_masked,
            "accuracy_masked": float(((pred == pos) == t).mean()),
            "mean_positive_probability_masked": float(masked[:, pos].mean()),
            "masked_interval": _pair(ci.get("auc_masked")),
            "drop_interval": _pair(ci.get("drop")),
            "still_separates": bool(auc_masked is not None and auc_masked >= STILL_SEPARATES),
        }

    def line(self, occ: dict[str, Any]) -> EvidenceLine:
        """The verdict line of :meth:`measure`'s result, under this evaluator's rules."""
        if occ.get("auc_masked") is None:
            return EvidenceLine(key="occlusion", label="lungs masked", level="info",
                                finding="not measured",
                                meaning=occ.get("note") or "the split lacks a class: no "
                                "ROC AUC to compare")
        masked, full = float(occ["auc_masked"]), occ.get("auc_full")
        finding = f"ROC AUC {number_text(full)} → {number_text(masked)}" \
                  f"{interval_text(occ.get('masked_interval'))}"
        if full is not None:
            finding += f"; drop {full - masked:+.2f}{interval_text(occ.get('drop_interval'))}"
        low = low_end(occ.get("masked_interval"), masked)
        kept = (masked - 0.5) / (full - 0.5) if full is not None and full > 0.55 else 0.0
        if full is not None and full > 0.55:
            finding += f"; {max(kept, 0.0):.0%} of its separation kept"
        rule = (f"some: masked AUC (low end) >= {self.some_auc:g}, or above chance with "
                f">= {self.kept:.0%} of the separation kept; strong: masked AUC (low "
                f"end) >= {self.strong_auc:g}")
        level = "strong" if low >= self.strong_auc else "some" \
            if low >= self.some_auc or (low > 0.5 and kept >= self.kept) else "none"
        meaning = {"strong": "with the lungs hidden it still separates the classes: it reads "
                             "something else",
                   "some": "with the lungs hidden it keeps much of its separation: part of "
                           "what it reads is outside the lungs",
                   "none": "with the lungs hidden it loses most of its separation: what it "
                           "reads is mostly in the lungs"}[level]
        interval = occ.get("masked_interval")
        return EvidenceLine(key="occlusion", label="lungs masked", level=level, finding=finding,
                            meaning=meaning, rule=rule, value=masked,
                            interval=tuple(interval) if interval else None)
