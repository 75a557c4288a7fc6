"""``occlusion``: scores with the lung fields hidden, and with everything but them hidden.

Each image's own lung fields (``split.lung_fields``: the run's lung-field
estimator, or the user's masks) decide what is hidden; hidden pixels take one
constant, ``context.fill``, fixed from the training split (never the image's own
statistics, which would carry the hidden region's brightness into the rest). The
model scores each image twice more:

- **lungs hidden**: a model that still separates the classes reads something
  outside the lungs (a marker, a drain, borders, the scanner);
- **only the lungs**: a model that separates the classes with only the lungs
  visible, and not without them, reads the lungs.

Each side errs towards "cannot say": the lungs are hidden grown by ``margin``
(3% of the image's longer side), so an opacity's edge or an estimate a little
too tight leaves nothing of the lungs to read, and only the lungs are shown
shrunk by the same margin, so a marker touching a field's edge shows in neither
pass. A marker beside the lungs, beyond the margin, shows with the lungs hidden
only: the model then separates better without the lungs than with only them.

Without lung fields (no estimator, or it is off) or without a recorded fill the
line says "not measured" and why: a fixed box in their place would hide markers
inside it and pass them as lungs. A model that does not separate the classes
at all gets "not measured" too: there is no separation for hiding to take away.

Both passes run the full model over new pixels, so the images scored are
bounded: at most ``max_images`` a split (0, the default: every image, the
headline's own) and, for a costly model, as many as ``budget_gflop`` of forward
passes allow for both passes (counted from the model's layers, so the same on
every machine), never fewer than :data:`LEAST_IMAGES`. A small CNN scores every
image; VGG16 at 224x224 (31 GFLOP an image, two passes) 16. Fewer than all are
drawn with the run's seed within each class in proportion to its size, and the
line names how many of how many, with the model's ROC AUC on those same images.
Every AUC, share and interval (patient bootstrap, all three AUCs on each
resample) is computed on the same images.
"""

from __future__ import annotations

from typing import Any

import cv2
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

STILL_SEPARATES = 0.70  # ROC AUC with the lungs hidden at or above this is a warning
MAX_IMAGES = 0
BUDGET_GFLOP = 1000.0
LEAST_IMAGES = 16
PASSES = 2  # lungs hidden, only the lungs
SOME_AUC = 0.65
STRONG_AUC = 0.8
KEPT = 0.5
LEAST_SEPARATION = 0.05  # a ROC AUC below 0.5 + this separates nothing worth hiding
MARGIN = 0.03  # the lungs are hidden grown, and shown shrunk, by this share of the longer side


def grow(fields: np.ndarray, margin: float) -> np.ndarray:
    """``fields`` (n, h, w; True inside) each grown by ``margin`` of its longer side."""
    fields = np.asarray(fields, dtype=bool)
    radius = round(margin * max(fields.shape[1:3])) if fields.ndim == 3 else 0
    if radius < 1:
        return fields
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return np.stack([cv2.dilate(f.astype(np.uint8), kernel) > 0 for f in fields]) \
        if len(fields) else fields


def shrink(fields: np.ndarray, margin: float) -> np.ndarray:
    """``fields`` each shrunk by ``margin`` of its longer side (the complement of :func:`grow`
    on the region outside them)."""
    return ~grow(~np.asarray(fields, dtype=bool), margin)


def hide(images: np.ndarray, region: np.ndarray, fill: float) -> np.ndarray:
    """A copy of ``images`` (n, h, w, c) with ``region`` (n, h, w; True = hide) set to ``fill``."""
    out = np.array(images, dtype=np.float32, copy=True)
    out[np.asarray(region, dtype=bool)] = fill
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
    return fast_metrics.roc_auc(t, p) if 0 < t.sum() < len(t) else None


def _pair(interval: dict[str, Any] | None) -> list[float] | None:
    return [interval["low"], interval["high"]] if interval else None


def kept_share(auc: float, full: float) -> float:
    """The share of the model's separation (``full`` - 0.5) that ``auc`` keeps, in [0, 1]."""
    return float(min(1.0, max(0.0, (auc - 0.5) / (full - 0.5))))


def share_text(share: float) -> str:
    """``all``, ``none`` or a percentage: a share as the line writes it."""
    return "all" if share >= 0.995 else "none" if share <= 0.005 else f"{share:.0%}"


def not_measured(context: EvaluationContext) -> str | None:
    """Why this split cannot be occluded, or None when it can."""
    split = context.split
    if split.images is None or not len(split.images):
        return "no images to occlude"
    if split.lung_fields is None:
        return ("no lung fields for these images (the lung-field estimator is off or did not "
                "run): hiding a fixed box instead would pass a marker inside it as lungs")
    if np.shape(split.lung_fields) != np.shape(split.images)[:3]:
        return (f"the lung fields' shape {tuple(np.shape(split.lung_fields))} does not match "
                f"the images' {tuple(np.shape(split.images)[:3])}")
    if context.fill is None:
        return ("the run recorded no fill for hidden pixels (a run from before it was "
                "recorded): evaluate again with a run the current version wrote")
    if len(np.unique(split.y_true)) < 2:
        return "the split lacks a class: no ROC AUC to compare"
    return None


class OcclusionEvaluator:
    """ROC AUC with the lung fields hidden, and with only the lung fields shown.

    :param max_images: images occluded per split, at most (0: every image).
    :param budget_gflop: forward-pass GFLOP per split, both passes together, that bound
        the count for a costly model (0: no budget).
    :param some_auc: ROC-AUC with the lungs hidden (low end of its interval) at or above
        this: some shortcut evidence.
    :param strong_auc: ROC-AUC with the lungs hidden (low end) at or above this: strong
        evidence.
    :param kept: share of the model's separation (AUC - 0.5) that counts as kept: with
        the lungs hidden and above chance, some evidence; with only the lungs (and lost
        without them), the model reads the lungs.
    :param margin: the lungs are hidden grown by this share of the image's longer side,
        and only the lungs are shown shrunk by it.
    """

    def __init__(self, *, max_images: int = MAX_IMAGES, budget_gflop: float = BUDGET_GFLOP,
                 some_auc: float = SOME_AUC, strong_auc: float = STRONG_AUC,
                 kept: float = KEPT, margin: float = MARGIN) -> None:
        if max_images < 0:
            raise ValueError(f"max_images must be 0 (every image) or more, not {max_images}")
        if not budget_gflop >= 0:  # NaN too
            raise ValueError(f"budget_gflop must be 0 (no budget) or more, not {budget_gflop}")
        for name, value in (("some_auc", some_auc), ("strong_auc", strong_auc)):
            if not 0.5 <= value <= 1.0:
                raise ValueError(f"{name} must be 0.5 to 1, not {value}")
        if not 0.0 <= kept <= 1.0:
            raise ValueError(f"kept must be 0 to 1, not {kept}")
        if not 0.0 <= margin <= 0.5:
            raise ValueError(f"margin must be 0 to 0.5, not {margin}")
        self.margin = margin
        self.max_images = max_images
        self.budget_gflop = budget_gflop
        self.some_auc, self.strong_auc, self.kept = some_auc, strong_auc, kept

    def limit(self, model: object | None) -> int:
        """Images to occlude per split for ``model`` (0: every image)."""
        if model is None or not self.budget_gflop:
            return self.max_images
        least = min(LEAST_IMAGES, self.max_images) if self.max_images else LEAST_IMAGES
        return images_within(model, self.budget_gflop / PASSES, most=self.max_images,
                             least=least)

    def evaluate_context(self, context: EvaluationContext) -> Findings:
        """The three ROC AUCs on the same images, and the verdict line they support."""
        results = self.measure(context)
        return Findings(results=results, evidence=(self.line(results),))

    def measure(self, context: EvaluationContext) -> dict[str, Any]:
        """``auc_full``, ``auc_masked`` (lungs hidden) and ``auc_lungs_only``, with intervals;
        ``{"note": why}`` when the split cannot be occluded."""
        why = not_measured(context)
        if why is not None:
            return {"note": why}
        split, pos, fill = context.split, context.positive_index, float(context.fill or 0.0)
        rows = stratified_rows(split.y_true, self.limit(context.model), context.seed)
        images, lungs = split.images[rows], np.asarray(split.lung_fields[rows], dtype=bool)
        t, full = split.y_true[rows] == pos, split.y_prob[rows, pos]
        masked = np.asarray(context.predict(hide(images, grow(lungs, self.margin), fill)),
                            dtype=float)[:, pos]
        only = np.asarray(context.predict(hide(images, ~shrink(lungs, self.margin), fill)),
                          dtype=float)[:, pos]
        auc_full, auc_masked, auc_only = _auc(t, full), _auc(t, masked), _auc(t, only)
        pred = masked >= context.threshold

        def on(w: np.ndarray) -> dict[str, np.ndarray]:  # all three on the same resample
            whole = fast_metrics.weighted_auc_ap(w, t, full)[0]
            hidden = fast_metrics.weighted_auc_ap(w, t, masked)[0]
            inside = fast_metrics.weighted_auc_ap(w, t, only)[0]
            return {"auc_full": whole, "auc_masked": hidden, "drop": whole - hidden,
                    "auc_lungs_only": inside, "outside_minus_inside": hidden - inside}

        ci = bootstrap_weighted(on, split.patients[rows], context.bootstrap, context.seed)
        return {
            "images": {"occluded": int(len(rows)), "of": int(len(split.y_true))},
            "region": "lung fields", "fill": fill, "margin": self.margin,
            "empty_fields": int((~lungs.any(axis=(1, 2))).sum()),
            "lung_share": float(lungs.mean()),
            "auc_full": auc_full, "full_interval": _pair(ci.get("auc_full")),
            "auc_masked": auc_masked, "masked_interval": _pair(ci.get("auc_masked")),
            "drop_interval": _pair(ci.get("drop")),
            "auc_lungs_only": auc_only, "lungs_only_interval": _pair(ci.get("auc_lungs_only")),
            "outside_minus_inside_interval": _pair(ci.get("outside_minus_inside")),
            "accuracy_masked": float((pred == t).mean()),
            "mean_positive_probability_masked": float(masked.mean()),
            "still_separates": bool(auc_masked is not None and auc_masked >= STILL_SEPARATES),
        }

    def rule(self) -> str:
        """The rules of :meth:`line`, as the report shows them."""
        return (f"not measured: the model's own ROC AUC (low end) <= 0.5 or below "
                f"{0.5 + LEAST_SEPARATION:g}; strong: lungs hidden, AUC (low end) >= "
                f"{self.strong_auc:g}, or above 0.5 and above the AUC with only the lungs "
                "(paired interval of the difference above 0); some: lungs hidden, AUC (low "
                f"end) >= {self.some_auc:g}, "
                f"or above 0.5 with >= {self.kept:.0%} of the separation kept; none: not so, "
                f"and with only the lungs above 0.5 (low end) with >= {self.kept:.0%} kept; "
                "else inconclusive (info)")

    def line(self, occ: dict[str, Any]) -> EvidenceLine:
        """The verdict line of :meth:`measure`'s result, under this evaluator's rules."""
        label = "occlusion of the lungs"
        full, masked, only = occ.get("auc_full"), occ.get("auc_masked"), occ.get("auc_lungs_only")
        if full is None or masked is None or only is None:
            return EvidenceLine(key="occlusion", label=label, level="info",
                                finding="not measured",
                                meaning=occ.get("note") or "the split lacks a class: no "
                                "ROC AUC to compare")
        count = occ.get("images") or {}
        on = f"on {count['occluded']} of {count['of']} images: " \
            if count.get("occluded") not in (None, count.get("of")) else ""
        model = f"{on}ROC AUC {number_text(full)}{interval_text(occ.get('full_interval'))}"
        if low_end(occ.get("full_interval"), full) <= 0.5 or full < 0.5 + LEAST_SEPARATION:
            return EvidenceLine(key="occlusion", label=label, level="info",
                                finding="not measured", rule=self.rule(),
                                meaning=f"the model does not separate the classes ({model}): "
                                        "hiding a region has no separation to take away")
        kept_masked, kept_only = kept_share(masked, full), kept_share(only, full)
        finding = (f"{model}; lungs hidden {number_text(masked)}"
                   f"{interval_text(occ.get('masked_interval'))} ({share_text(kept_masked)} of "
                   f"its separation kept); only the lungs {number_text(only)}"
                   f"{interval_text(occ.get('lungs_only_interval'))} "
                   f"({share_text(kept_only)} kept)")
        low_masked = low_end(occ.get("masked_interval"), masked)
        low_only = low_end(occ.get("lungs_only_interval"), only)
        outside_lead = occ.get("outside_minus_inside_interval")
        reads_outside = low_masked > 0.5 and outside_lead is not None and outside_lead[0] > 0
        if reads_outside:
            finding += (f"; lungs hidden - only the lungs {masked - only:+.3f}"
                        f"{interval_text(outside_lead)} (paired)")
        if low_masked >= self.strong_auc:
            level, meaning = "strong", ("with the lungs hidden it still separates the classes: "
                                        "it reads something outside the lungs")
        elif reads_outside:
            level, meaning = "strong", ("it separates the classes better with the lungs hidden "
                                        "than with only the lungs shown: what it reads is "
                                        "outside the lungs")
        elif low_masked >= self.some_auc or (low_masked > 0.5 and kept_masked >= self.kept):
            level, meaning = "some", (f"with the lungs hidden it keeps "
                                      f"{share_text(kept_masked)} of its separation: what it "
                                      "reads lies at least partly outside the lungs")
        else:
            lost = (f"with the lungs hidden it keeps {share_text(kept_masked)} of its "
                    "separation" + (", not clearly above chance" if low_masked <= 0.5 else ""))
            if low_only > 0.5 and kept_only >= self.kept:
                level, meaning = "none", (f"{lost}; with only the lungs it keeps "
                                          f"{share_text(kept_only)}: what it reads is in the "
                                          "lungs")
            else:
                level, meaning = "info", (f"{lost}, and with only the lungs "
                                          f"{share_text(kept_only)}"
                                          + (", not clearly above chance" if low_only <= 0.5
                                             else "")
                                          + ": neither region alone carries what it reads, so "
                                            "occlusion cannot say where it reads")
        interval = occ.get("masked_interval")
        return EvidenceLine(key="occlusion", label=label, level=level, finding=finding,
                            meaning=meaning, rule=self.rule(), value=masked,
                            interval=tuple(interval) if interval else None)
