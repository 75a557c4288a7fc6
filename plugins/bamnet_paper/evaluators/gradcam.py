"""``gradcam``: Grad-CAM overlays of the split's misclassified images and N correct ones.

Every misclassified image is shown up to ``max_misclassified`` (default
:data:`MAX_MISCLASSIFIED`; 0 for all), and fewer for a costly model: as many
as ``budget_gflop`` of forward passes allow (default :data:`BUDGET_GFLOP`,
counted from the model's layers; never fewer than :data:`LEAST_MISCLASSIFIED`;
0 turns the budget off), since each map costs a pass of the full model (VGG16
at 224x224: 31 GFLOP, about 6 images/s on 2 cores, so 4 maps; a small CNN 16).
Past the limit, the most confidently wrong ones (farthest from the threshold).
``correct_images`` (default :data:`CORRECT_IMAGES`) correctly classified ones
are shown beside them. The result says how many were misclassified and how many are shown. The maps
are computed in batches, one gradient pass per batch.

The layer is the one the backbone names (``NamesGradCamLayer``: ``block5_conv3``
for VGG16, the last block's activation for ``small-cnn``), else the model's last
4-D feature map. Overlays are PNG files under ``context.figures_dir``; the
report arranges them in a grid. The heatmap is for the predicted class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bamnet_core.contract import EvaluationContext, decide_indices, images_within, write_file

MAX_MISCLASSIFIED = 16
BUDGET_GFLOP = 150.0
LEAST_MISCLASSIFIED = 4
CORRECT_IMAGES = 8


def pick_rows(wrong: np.ndarray, count: int, seed: int, *, confidence: np.ndarray | None = None,
              max_wrong: int = 0) -> np.ndarray:
    """Misclassified rows (the ``max_wrong`` of highest ``confidence`` when there are more;
    0 keeps all), plus up to ``count`` correct rows drawn with ``seed``."""
    right, mistakes = np.flatnonzero(~wrong), np.flatnonzero(wrong)
    if max_wrong and len(mistakes) > max_wrong:
        mistakes = mistakes[np.argsort(-confidence[mistakes], kind="stable")[:max_wrong]]
    rng = np.random.default_rng(seed)
    extra = rng.choice(right, size=min(count, len(right)), replace=False) if len(right) else []
    return np.sort(np.concatenate([mistakes, np.asarray(extra, dtype=int)]))


class GradCamEvaluator:
    """Heatmaps of where the model looked, written as PNG overlays.

    :param max_misclassified: misclassified images shown per split, at most (0: all).
    :param budget_gflop: forward-pass GFLOP per split that bound the count for a costly
        model (0: no budget).
    :param correct_images: correctly classified images shown besides the misclassified ones.
    """

    def __init__(self, *, max_misclassified: int = MAX_MISCLASSIFIED,
                 budget_gflop: float = BUDGET_GFLOP,
                 correct_images: int = CORRECT_IMAGES) -> None:
        if max_misclassified < 0:
            raise ValueError(f"max_misclassified must be 0 (all) or more, not "
                             f"{max_misclassified}")
        if not budget_gflop >= 0:  # NaN too
            raise ValueError(f"budget_gflop must be 0 (no budget) or more, not {budget_gflop}")
        if not 0 <= correct_images <= 10_000:
            raise ValueError(f"correct_images must be 0 to 10000, not {correct_images}")
        self.max_misclassified = max_misclassified
        self.correct_images = correct_images
        self.budget_gflop = budget_gflop

    def limit(self, model: object) -> int:
        """Misclassified images shown per split for ``model`` (0: all)."""
        if not self.budget_gflop or not self.max_misclassified:
            return self.max_misclassified
        return images_within(model, self.budget_gflop, most=self.max_misclassified,
                             least=min(LEAST_MISCLASSIFIED, self.max_misclassified))

    def evaluate_context(self, context: EvaluationContext) -> dict[str, Any]:
        """One entry per picture: file, true and predicted class, positive probability."""
        split = context.split
        if context.model is None or split.images is None:
            return {"note": "Grad-CAM needs the Keras model and the images; skipped"}
        import cv2

        from .gradcam_maps import gradcam, overlay

        pos = context.positive_index
        pred = decide_indices(split.y_prob, pos, context.threshold)
        wrong = pred != split.y_true
        rows = pick_rows(wrong, self.correct_images, context.seed,
                         confidence=np.abs(split.y_prob[:, pos] - context.threshold),
                         max_wrong=self.limit(context.model))
        maps, layer = gradcam(context.model, split.images[rows], pred[rows],
                              context.gradcam_layer)
        folder = Path(context.figures_dir) / f"gradcam-{split.name}"
        folder.mkdir(parents=True, exist_ok=True)
        names = list(context.class_names)
        items = []
        for k, (row, heat) in enumerate(zip(rows, maps, strict=True)):
            picture = overlay(split.images[row], heat)
            ok, png = cv2.imencode(".png", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
            file = folder / f"{k:04d}.png"
            write_file(file, png.tobytes(), f"the Grad-CAM image {file.name}")
            items.append({"file": f"{folder.name}/{file.name}",
                          "image": Path(split.samples[row].path).name,
                          "true": names[int(split.y_true[row])], "predicted": names[int(pred[row])],
                          "positive_probability": float(split.y_prob[row, pos]),
                          "misclassified": bool(wrong[row])})
        return {"layer": layer, "images": items, "misclassified": int(wrong.sum()),
                "shown_misclassified": int(sum(i["misclassified"] for i in items))}
