"""``occlusion``: scores with the central lung fields masked out.

Each image's central region (rows 20-85%, columns 15-85%: the lungs and heart
on a frontal chest X-ray) is filled with the image's own mean value, and the
model scores it again. A model that still separates the classes without the
lungs is reading something else: borders, text markers, the scanner, age.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bamnet_core.contract import EvaluationContext, bootstrap_metrics

from . import fast_metrics

ROWS = (0.20, 0.85)
COLS = (0.15, 0.85)
STILL_SEPARATES = 0.70  # ROC AUC with the lungs hidden at or above this is a warning


def mask_lung_fields(images: np.ndarray) -> np.ndarray:
    """A copy of ``images`` (n, h, w, c) with the central region set to each image's mean."""
    out = np.array(images, dtype=np.float32, copy=True)
    h, w = out.shape[1:3]
    r0, r1 = int(ROWS[0] * h), int(np.ceil(ROWS[1] * h))
    c0, c1 = int(COLS[0] * w), int(np.ceil(COLS[1] * w))
    means = out.mean(axis=(1, 2), keepdims=True)
    out[:, r0:r1, c0:c1, :] = np.broadcast_to(means, (len(out), r1 - r0, c1 - c0, out.shape[3]))
    return out


def _auc(t: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(t, p)) if 0 < t.sum() < len(t) else None


def _pair(interval: dict[str, Any] | None) -> list[float] | None:
    return [interval["low"], interval["high"]] if interval else None


class OcclusionEvaluator:
    """ROC AUC and accuracy before and after masking the lung fields."""

    def evaluate_context(self, context: EvaluationContext) -> dict[str, Any]:
        """``auc_full`` vs ``auc_masked``; ``still_separates`` when the masked AUC stays high."""
        split, pos = context.split, context.positive_index
        if split.images is None or not len(split.images):
            return {"note": "no images to occlude"}
        t = split.y_true == pos
        masked = np.asarray(context.predict(mask_lung_fields(split.images)), dtype=float)
        auc_full, auc_masked = _auc(t, split.y_prob[:, pos]), _auc(t, masked[:, pos])
        pred = np.where(masked[:, pos] >= context.threshold, pos, -1)

        def on(rows: np.ndarray) -> dict[str, Any]:  # both AUCs on the same resample
            tr = t[rows]
            if not 0 < tr.sum() < len(tr):
                return {"auc_masked": None, "drop": None}
            full = fast_metrics.roc_auc(tr, split.y_prob[rows, pos])
            hidden = fast_metrics.roc_auc(tr, masked[rows, pos])
            return {"auc_masked": hidden, "drop": full - hidden}

        ci = bootstrap_metrics(on, split.patients, int(context.settings.get("bootstrap", 0)),
                               context.seed)
        return {
            "region": {"rows": list(ROWS), "cols": list(COLS), "fill": "image mean"},
            "auc_full": auc_full,
            "auc_masked": auc_masked,
            "accuracy_masked": float(((pred == pos) == t).mean()),
            "mean_positive_probability_masked": float(masked[:, pos].mean()),
            "masked_interval": _pair(ci.get("auc_masked")),
            "drop_interval": _pair(ci.get("drop")),
            "still_separates": bool(auc_masked is not None and auc_masked >= STILL_SEPARATES),
        }
